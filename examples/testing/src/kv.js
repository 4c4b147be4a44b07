// /kv/<key>: PUT stores the request body under the key, GET gives it back (404 when absent), DELETE
// removes it. The value keeps the content type it was sent with.
export async function handleKV(request, env, key) {
  if (key === '') {
    return new Response('Missing key', { status: 400 });
  }

  if (request.method === 'PUT') {
    const contentType = request.headers.get('Content-Type') || 'text/plain;charset=UTF-8';
    await env.DATA_KV.put(key, await request.arrayBuffer(), { metadata: { contentType } });
    return Response.json({ key, stored: true });
  }

  if (request.method === 'GET') {
    const { value, metadata } = await env.DATA_KV.getWithMetadata(key, 'arrayBuffer');
    if (value === null) {
      return new Response('Not Found', { status: 404 });
    }
    return new Response(value, { headers: { 'Content-Type': metadata?.contentType ?? 'application/octet-stream' } });
  }

  if (request.method === 'DELETE') {
    await env.DATA_KV.delete(key);
    return new Response(null, { status: 204 });
  }

  return new Response('Method not allowed', { status: 405, headers: { Allow: 'GET, PUT, DELETE' } });
}
