// The seed's scheduled maintenance Worker (workers-seed.md, "1. Scheduled Events (Cron Jobs)"), as written
// there; src/index.js runs it and supplies what it calls without defining.
// Scheduled tasks for maintenance and automation
export default {
  async fetch(request, env, ctx) {
    // Handle HTTP requests
    return new Response('Worker is running');
  },
  
  async scheduled(event, env, ctx) {
    // Handle scheduled events
    switch (event.cron) {
      case '0 0 * * *': // Daily at midnight
        await performDailyMaintenance(env);
        break;
      case '*/5 * * * *': // Every 5 minutes
        await performHealthCheck(env);
        break;
      case '0 */6 * * *': // Every 6 hours
        await cleanupExpiredData(env);
        break;
    }
  }
};

async function performDailyMaintenance(env) {
  console.log('Starting daily maintenance...');
  
  // Clean up old cache entries
  const keys = await env.CACHE_KV.list();
  const now = Date.now();
  
  for (const key of keys.keys) {
    const value = await env.CACHE_KV.get(key.name, 'json');
    if (value && value.expires && now > value.expires) {
      await env.CACHE_KV.delete(key.name);
    }
  }
  
  // Send daily report
  await sendDailyReport(env);
  
  console.log('Daily maintenance completed');
}

async function performHealthCheck(env) {
  const services = [
    { name: 'Database', url: env.DB_HEALTH_URL },
    { name: 'External API', url: env.API_HEALTH_URL },
  ];
  
  for (const service of services) {
    try {
      const response = await fetch(service.url, { 
        method: 'HEAD',
        timeout: 5000,
      });
      
      const status = response.ok ? 'healthy' : 'unhealthy';
      await env.METRICS_KV.put(
        `health:${service.name.toLowerCase()}`,
        JSON.stringify({
          status,
          timestamp: Date.now(),
          responseTime: Date.now() - startTime,
        })
      );
    } catch (error) {
      await env.METRICS_KV.put(
        `health:${service.name.toLowerCase()}`,
        JSON.stringify({
          status: 'unhealthy',
          error: error.message,
          timestamp: Date.now(),
        })
      );
    }
  }
}
