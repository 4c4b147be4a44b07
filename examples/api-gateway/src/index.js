// The entry: runs the seed's gateway (src/gateway.js, unmodified) with one correction around it.
//
// The seed's checkRateLimit stores its counter with expirationTtl = the seconds left in the window, which
// is below 60 a second after the window opens — and KV, on Cloudflare as here, refuses a TTL under 60
// ("Invalid expiration_ttl of 59. Expiration TTL must be at least 60."), so every request after the first
// second of each minute would end in the gateway's catch with a 500. The counter's own resetTime already
// ends the window, so keeping the entry a little longer changes nothing else: the TTL is raised to 60 here.
import gateway from './gateway.js';

function atLeastOneMinute(kv) {
  return {
    get: (...args) => kv.get(...args),
    put: (key, value, options = {}) =>
      kv.put(key, value, { ...options, expirationTtl: Math.max(60, options.expirationTtl ?? 60) }),
  };
}

export default {
  fetch(request, env, ctx) {
    return gateway.fetch(request, { ...env, RATE_LIMIT_KV: atLeastOneMinute(env.RATE_LIMIT_KV) }, ctx);
  },
};
