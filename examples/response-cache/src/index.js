// The seed's response caching Worker (workers-seed.md, "1. Response Caching"), as written there.
// Intelligent response caching
export default {
  async fetch(request, env, ctx) {
    const cache = caches.default;
    const cacheKey = new Request(request.url, request);
    
    // Try cache first
    let response = await cache.match(cacheKey);
    if (response) {
      // Add cache hit header
      response = new Response(response.body, response);
      response.headers.set('X-Cache', 'HIT');
      return response;
    }
    
    // Generate response
    response = await generateResponse(request, env);
    
    // Cache if cacheable
    if (isCacheable(request, response)) {
      // Clone response for caching
      const responseToCache = response.clone();
      responseToCache.headers.set('X-Cache', 'MISS');
      responseToCache.headers.set('Cache-Control', 'public, max-age=3600');
      
      // Cache in background
      ctx.waitUntil(cache.put(cacheKey, responseToCache));
    }
    
    response.headers.set('X-Cache', 'MISS');
    return response;
  }
};

function isCacheable(request, response) {
  // Only cache GET requests
  if (request.method !== 'GET') return false;
  
  // Only cache successful responses
  if (response.status < 200 || response.status >= 300) return false;
  
  // Don't cache private content
  const cacheControl = response.headers.get('Cache-Control');
  if (cacheControl && cacheControl.includes('private')) return false;
  
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Below: generateResponse, which the seed calls but leaves to the reader. It counts how often it runs, so a
// cache hit is visible (the number does not change).
let generated = 0;
async function generateResponse(request, env) {
  generated++;
  return new Response('generated #' + generated + ' for ' + new URL(request.url).pathname);
}
