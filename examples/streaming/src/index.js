// The seed's streaming Worker (workers-seed.md, "3. Streaming Responses"), unmodified.
// Streaming large datasets efficiently
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    
    if (url.pathname === '/stream/logs') {
      return streamLogs(request, env);
    }
    
    if (url.pathname === '/stream/csv') {
      return streamCSV(request, env);
    }
    
    return new Response('Not Found', { status: 404 });
  }
};

async function streamLogs(request, env) {
  const { readable, writable } = new TransformStream();
  const writer = writable.getWriter();
  
  // Start streaming in background
  (async () => {
    try {
      // Get logs from database in batches
      let offset = 0;
      const limit = 1000;
      
      while (true) {
        const { results } = await env.DB.prepare(`
          SELECT timestamp, level, message 
          FROM logs 
          ORDER BY timestamp DESC 
          LIMIT ? OFFSET ?
        `).bind(limit, offset).all();
        
        if (results.length === 0) break;
        
        for (const log of results) {
          const logLine = `${log.timestamp} [${log.level}] ${log.message}\n`;
          await writer.write(new TextEncoder().encode(logLine));
        }
        
        offset += limit;
        
        // Prevent infinite loops
        if (offset > 100000) break;
      }
    } finally {
      await writer.close();
    }
  })();
  
  return new Response(readable, {
    headers: {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-cache',
    },
  });
}

async function streamCSV(request, env) {
  const { readable, writable } = new TransformStream();
  const writer = writable.getWriter();
  
  // CSV streaming
  (async () => {
    try {
      // Write CSV header
      await writer.write(new TextEncoder().encode('id,name,email,created_at\n'));
      
      // Stream data in batches
      let offset = 0;
      const limit = 1000;
      
      while (true) {
        const { results } = await env.DB.prepare(`
          SELECT id, name, email, created_at 
          FROM users 
          ORDER BY id 
          LIMIT ? OFFSET ?
        `).bind(limit, offset).all();
        
        if (results.length === 0) break;
        
        for (const user of results) {
          const csvRow = `${user.id},"${user.name}","${user.email}","${user.created_at}"\n`;
          await writer.write(new TextEncoder().encode(csvRow));
        }
        
        offset += limit;
      }
    } finally {
      await writer.close();
    }
  })();
  
  return new Response(readable, {
    headers: {
      'Content-Type': 'text/csv',
      'Content-Disposition': 'attachment; filename="users.csv"',
    },
  });
}
