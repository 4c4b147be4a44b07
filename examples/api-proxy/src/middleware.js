// The seed's external API middleware (workers-seed.md, "3. External API Integration"), as written there;
// src/index.js runs it.
// Workers as middleware for external APIs
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    
    if (url.pathname.startsWith('/proxy/')) {
      return handleProxy(request, env);
    }
    
    if (url.pathname === '/weather') {
      return handleWeather(request, env);
    }
    
    return new Response('Not Found', { status: 404 });
  }
};

async function handleProxy(request, env) {
  const url = new URL(request.url);
  const targetPath = url.pathname.slice(7); // Remove '/proxy/'
  const targetURL = `https://api.example.com${targetPath}${url.search}`;
  
  // Clone request for forwarding
  const proxyRequest = new Request(targetURL, {
    method: request.method,
    headers: {
      ...Object.fromEntries(request.headers),
      'Authorization': `Bearer ${env.API_KEY}`,
      'User-Agent': 'CloudflareWorker/1.0',
    },
    body: request.body,
  });
  
  try {
    const response = await fetch(proxyRequest);
    
    // Transform response if needed
    if (response.headers.get('content-type')?.includes('application/json')) {
      const data = await response.json();
      
      // Add metadata
      data._metadata = {
        timestamp: Date.now(),
        worker_id: env.WORKER_ID,
        cf_ray: request.headers.get('CF-Ray'),
      };
      
      return Response.json(data, {
        status: response.status,
        headers: {
          'Content-Type': 'application/json',
          'Cache-Control': 'public, max-age=300',
        },
      });
    }
    
    return response;
  } catch (error) {
    console.error('Proxy error:', error);
    return new Response('Gateway error', { status: 502 });
  }
}

async function handleWeather(request, env) {
  const url = new URL(request.url);
  const city = url.searchParams.get('city') || 'London';
  
  // Check cache first
  const cacheKey = `weather:${city.toLowerCase()}`;
  const cached = await env.CACHE_KV.get(cacheKey, 'json');
  
  if (cached && Date.now() - cached.timestamp < 300000) { // 5 minutes
    return Response.json(cached.data);
  }
  
  try {
    // Fetch from weather API
    const weatherResponse = await fetch(
      `https://api.openweathermap.org/data/2.5/weather?q=${encodeURIComponent(city)}&appid=${env.WEATHER_API_KEY}&units=metric`
    );
    
    if (!weatherResponse.ok) {
      return new Response('Weather data not found', { status: 404 });
    }
    
    const weatherData = await weatherResponse.json();
    
    // Transform and cache data
    const transformedData = {
      city: weatherData.name,
      country: weatherData.sys.country,
      temperature: weatherData.main.temp,
      description: weatherData.weather[0].description,
      humidity: weatherData.main.humidity,
      windSpeed: weatherData.wind.speed,
    };
    
    // Cache for 5 minutes
    await env.CACHE_KV.put(cacheKey, JSON.stringify({
      data: transformedData,
      timestamp: Date.now(),
    }), { expirationTtl: 300 });
    
    return Response.json(transformedData);
  } catch (error) {
    console.error('Weather API error:', error);
    return new Response('Weather service unavailable', { status: 503 });
  }
}
