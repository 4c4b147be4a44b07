// /upload and /download/<fileKey> on the FILES bucket: the same handlers as examples/r2-upload.
export async function handleUpload(request, env) {
  if (request.method !== 'POST') {
    return new Response('Method not allowed', { status: 405, headers: { Allow: 'POST' } });
  }

  let form;
  try {
    form = await request.formData();
  } catch (error) {
    return new Response('Expected a multipart/form-data body', { status: 400 });
  }

  const file = form.get('file');
  if (!(file instanceof File)) {
    return new Response('The form has no file in its "file" field', { status: 400 });
  }

  // A fresh key per upload, so two files with the same name do not replace each other.
  const fileKey = `${crypto.randomUUID()}-${file.name}`;
  const object = await env.FILES.put(fileKey, file, {
    httpMetadata: {
      contentType: file.type || 'application/octet-stream',
      contentDisposition: `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`,
    },
    customMetadata: { uploadedAt: new Date().toISOString() },
  });

  return Response.json({ fileKey, size: object.size, etag: object.etag });
}

export async function handleDownload(request, env, fileKey) {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response('Method not allowed', { status: 405, headers: { Allow: 'GET, HEAD' } });
  }

  const object = await env.FILES.get(fileKey);
  if (object === null) {
    return new Response('File not found', { status: 404 });
  }

  const headers = new Headers();
  object.writeHttpMetadata(headers);
  headers.set('ETag', object.httpEtag);
  headers.set('Content-Length', String(object.size));
  return new Response(object.body, { headers });
}
