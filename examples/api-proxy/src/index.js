// The entry: runs the seed's middleware (src/middleware.js, unmodified) with one correction around it.
//
// The seed's handleProxy builds its target as `https://api.example.com${url.pathname.slice(7)}`: slice(7)
// of "/proxy/users/7" is "users/7", so the URL becomes https://api.example.comusers/7 (no slash between host
// and path) and every proxied request fails with 502. The entry hands the seed "/proxy//users/7" instead,
// whose slice(7) is "/users/7"; everything else reaches the seed as it came.
import middleware from './middleware.js';

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/proxy/')) {
      url.pathname = '/proxy/' + url.pathname.slice(6);
      request = new Request(url, request);
    }
    return middleware.fetch(request, env, ctx);
  },
};
