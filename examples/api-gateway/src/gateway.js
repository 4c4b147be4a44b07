// The seed's API gateway (workers-seed.md, "1. API Gateway Pattern"), as written there; src/index.js wraps it.
// Comprehensive API gateway with authentication and routing
export default {
  async fetch(request, env, ctx) {
    try {
      // CORS handling
      if (request.method === 'OPTIONS') {
        return handleCORS();
      }
      
      // Rate limiting
      const rateLimitResult = await checkRateLimit(request, env);
      if (!rateLimitResult.allowed) {
        return new Response('Rate limit exceeded', { 
          status: 429,
          headers: {
            'Retry-After': rateLimitResult.retryAfter.toString(),
          },
        });
      }
      
      // Authentication
      const authResult = await authenticate(request, env);
      if (!authResult.success && requiresAuth(request)) {
        return new Response('Unauthorized', { status: 401 });
      }
      
      // Route to appropriate handler
      const response = await routeRequest(request, env, authResult.user);
      
      // Add CORS headers to response
      return addCORSHeaders(response);
      
    } catch (error) {
      console.error('Worker error:', error);
      return new Response('Internal Server Error', { status: 500 });
    }
  }
};

async function checkRateLimit(request, env) {
  const clientIP = request.headers.get('CF-Connecting-IP');
  const key = `rate_limit:${clientIP}`;
  const now = Date.now();
  const windowMs = 60 * 1000; // 1 minute
  const maxRequests = 100;
  
  const current = await env.RATE_LIMIT_KV.get(key, 'json') || { count: 0, resetTime: now + windowMs };
  
  if (now > current.resetTime) {
    // Reset window
    current.count = 1;
    current.resetTime = now + windowMs;
  } else {
    current.count++;
  }
  
  await env.RATE_LIMIT_KV.put(key, JSON.stringify(current), {
    expirationTtl: Math.ceil((current.resetTime - now) / 1000),
  });
  
  return {
    allowed: current.count <= maxRequests,
    retryAfter: Math.ceil((current.resetTime - now) / 1000),
  };
}

async function authenticate(request, env) {
  const authHeader = request.headers.get('Authorization');
  
  if (!authHeader || !authHeader.startsWith('Bearer ')) {
    return { success: false };
  }
  
  const token = authHeader.slice(7);
  
  try {
    // Validate JWT token
    const payload = await verifyJWT(token, env.JWT_SECRET);
    return { success: true, user: payload };
  } catch {
    return { success: false };
  }
}

function requiresAuth(request) {
  const url = new URL(request.url);
  const publicPaths = ['/health', '/public'];
  return !publicPaths.some(path => url.pathname.startsWith(path));
}

async function routeRequest(request, env, user) {
  const url = new URL(request.url);
  
  // API routes
  if (url.pathname.startsWith('/api/')) {
    return handleAPI(request, env, user);
  }
  
  // Static file serving
  if (url.pathname.startsWith('/static/')) {
    return handleStaticFiles(request, env);
  }
  
  // Default response
  return new Response('Not Found', { status: 404 });
}

function handleCORS() {
  return new Response(null, {
    status: 204,
    headers: {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type, Authorization',
      'Access-Control-Max-Age': '86400',
    },
  });
}

function addCORSHeaders(response) {
  const newResponse = new Response(response.body, response);
  newResponse.headers.set('Access-Control-Allow-Origin', '*');
  return newResponse;
}

// ---------------------------------------------------------------------------------------------------------
// Below: the helpers the seed's gateway calls but does not define (verifyJWT, handleAPI, handleStaticFiles).

function base64UrlDecode(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

// Verifies an HS256 JSON Web Token with WebCrypto and returns its payload; throws when the token is
// malformed, signed with another key or algorithm, expired, or not yet valid.
async function verifyJWT(token, secret) {
  if (!secret) throw new Error('JWT_SECRET is not configured');
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('malformed token');
  const [headerPart, payloadPart, signaturePart] = parts;
  const header = JSON.parse(new TextDecoder().decode(base64UrlDecode(headerPart)));
  if (header.alg !== 'HS256') throw new Error(`unsupported algorithm ${header.alg}`);
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret),
                                            { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const valid = await crypto.subtle.verify('HMAC', key, base64UrlDecode(signaturePart),
                                           new TextEncoder().encode(`${headerPart}.${payloadPart}`));
  if (!valid) throw new Error('bad signature');
  const payload = JSON.parse(new TextDecoder().decode(base64UrlDecode(payloadPart)));
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.exp === 'number' && now >= payload.exp) throw new Error('token expired');
  if (typeof payload.nbf === 'number' && now < payload.nbf) throw new Error('token not yet valid');
  return payload;
}

async function handleAPI(request, env, user) {
  const url = new URL(request.url);
  if (url.pathname === '/api/me') {
    return Response.json({ user });
  }
  if (url.pathname === '/api/echo' && request.method === 'POST') {
    return Response.json({ user: user.sub, received: await request.json() });
  }
  return Response.json({ error: 'Not Found' }, { status: 404 });
}

// Files under public/ (the [assets] folder), reached through the ASSETS binding so that they pass the
// gateway's rate limit and authentication first (run_worker_first in wrangler.toml).
async function handleStaticFiles(request, env) {
  return env.ASSETS.fetch(request);
}
