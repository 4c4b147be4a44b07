// The Worker the seed's tests talk to (workers-seed.md, "Testing Strategies"): the unit tests call
// /api/health and POST /api/users, the integration tests /kv/<key> (KV) and /upload, /download/<key> (R2).
import { handleUsers } from './users.js';
import { handleKV } from './kv.js';
import { handleUpload, handleDownload } from './files.js';

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);

    if (url.pathname === '/api/health') {
      return new Response('OK');
    }
    if (url.pathname === '/api/users') {
      return handleUsers(request, env);
    }
    if (url.pathname.startsWith('/kv/')) {
      return handleKV(request, env, decodeURIComponent(url.pathname.slice('/kv/'.length)));
    }
    if (url.pathname === '/upload') {
      return handleUpload(request, env);
    }
    if (url.pathname.startsWith('/download/')) {
      return handleDownload(request, env, decodeURIComponent(url.pathname.slice('/download/'.length)));
    }
    return new Response('Not Found', { status: 404 });
  }
};
