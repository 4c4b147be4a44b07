// The seed's "Runtime APIs" Worker (workers-seed.md, "Core Concepts"), as written there; src/index.js
// serves it.
export default {
  async fetch(request, env, ctx) {
    // Standard Web APIs
    const url = new URL(request.url);
    const userAgent = request.headers.get('User-Agent');
    
    // Cloudflare-specific APIs
    const country = request.cf.country;
    const datacenter = request.cf.colo;
    
    return Response.json({
      path: url.pathname,
      userAgent,
      country,
      datacenter,
      timestamp: Date.now(),
    });
  }
};
