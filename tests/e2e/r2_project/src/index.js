// The e2e Worker of tests/e2e/test_r2.py: an object API over env.BUCKET.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, area, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    try {
      switch (area) {
        case 'obj':
          return await objects(request, env, key);
        case 'mpu':
          return await multipart(request, env, key, url.searchParams);
        case 'list':
          return Response.json(await list(env, url));
        case 'health':
          return new Response('OK');
      }
      return new Response('Not Found', { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};

async function objects(request, env, key) {
  if (request.method === 'PUT') {
    const md5 = request.headers.get('x-md5');
    const o = await env.BUCKET.put(key, request.body, {
      httpMetadata: request.headers,
      customMetadata: { via: 'e2e' },
      ...(md5 ? { md5 } : {}),
      onlyIf: request.headers,
    });
    if (o === null) return new Response('Precondition Failed', { status: 412 });
    return Response.json({ key: o.key, size: o.size, etag: o.etag, version: o.version });
  }
  if (request.method === 'DELETE') {
    await env.BUCKET.delete(key);
    return new Response(null, { status: 204 });
  }
  if (request.method === 'HEAD' || request.method === 'GET') {
    const ranged = request.headers.has('range');
    const o = await env.BUCKET.get(key, { onlyIf: request.headers, range: request.headers });
    if (o === null) return new Response('Object Not Found', { status: 404 });
    const headers = new Headers();
    o.writeHttpMetadata(headers);
    headers.set('etag', o.httpEtag);
    if (!('body' in o) || o.body === undefined) return new Response(null, { status: 304, headers });
    if (ranged) {
      headers.set('content-range', `bytes ${o.range.offset}-${o.range.offset + o.range.length - 1}/${o.size}`);
    }
    return new Response(o.body, { status: ranged ? 206 : 200, headers });
  }
  return new Response('Method Not Allowed', { status: 405 });
}

// Multipart uploads as clients drive them: POST creates, PUT ?uploadId&part=N sends a part, POST ?uploadId
// with the JSON list of parts completes.
async function multipart(request, env, key, params) {
  const id = params.get('uploadId');
  if (request.method === 'POST' && id === null) {
    const up = await env.BUCKET.createMultipartUpload(key, { httpMetadata: request.headers });
    return Response.json({ uploadId: up.uploadId });
  }
  const up = env.BUCKET.resumeMultipartUpload(key, id);
  if (request.method === 'PUT') {
    return Response.json(await up.uploadPart(Number(params.get('part')), request.body));
  }
  if (request.method === 'POST') {
    const o = await up.complete(await request.json());
    return Response.json({ key: o.key, size: o.size, etag: o.etag });
  }
  if (request.method === 'DELETE') {
    await up.abort();
    return new Response(null, { status: 204 });
  }
  return new Response('Method Not Allowed', { status: 405 });
}

async function list(env, url) {
  const r = await env.BUCKET.list({
    prefix: url.searchParams.get('prefix') ?? undefined,
    delimiter: url.searchParams.get('delimiter') ?? undefined,
  });
  return { keys: r.objects.map((o) => o.key), prefixes: r.delimitedPrefixes, truncated: r.truncated };
}
