// The entry: /cf shows everything the seed's Worker can read about a request (the whole request.cf and the
// headers the edge adds), so what src/runtime.js picks from it can be seen; every other path is the seed's
// Worker, unchanged.
import runtime from './runtime.js';

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === '/cf') {
      return Response.json({
        method: request.method,
        url: request.url,
        query: Object.fromEntries(url.searchParams),
        cf: request.cf,
        headers: Object.fromEntries(request.headers),
      });
    }
    return runtime.fetch(request, env, ctx);
  },
};
