// Request/Response handling with a KV-backed users API (the seed's "Request/Response Handling" section,
// unmodified).
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    
    // Route handling
    switch (url.pathname) {
      case '/api/users':
        return handleUsers(request, env);
      case '/api/upload':
        return handleUpload(request, env);
      case '/health':
        return new Response('OK', { status: 200 });
      default:
        return new Response('Not Found', { status: 404 });
    }
  }
};

async function handleUsers(request, env) {
  if (request.method === 'GET') {
    // Get users from KV or database
    const users = await env.USERS_KV.get('users', 'json') || [];
    return Response.json(users);
  }
  
  if (request.method === 'POST') {
    // Create new user
    const newUser = await request.json();
    
    // Validate user data
    if (!newUser.email || !newUser.name) {
      return new Response('Invalid user data', { status: 400 });
    }
    
    // Save to KV
    const users = await env.USERS_KV.get('users', 'json') || [];
    const user = {
      id: crypto.randomUUID(),
      ...newUser,
      createdAt: new Date().toISOString(),
    };
    
    users.push(user);
    await env.USERS_KV.put('users', JSON.stringify(users));
    
    return Response.json(user, { status: 201 });
  }
  
  return new Response('Method not allowed', { status: 405 });
}

// The seed routes /api/upload here without defining it: a form's `file` goes into the UPLOADS bucket under a
// fresh key (examples/r2-upload has the download side too).
async function handleUpload(request, env) {
  if (request.method !== 'POST') {
    return new Response('Method not allowed', { status: 405 });
  }
  const form = await request.formData().catch(() => null);
  const file = form && form.get('file');
  if (!(file instanceof File)) {
    return new Response('Expected a form with a file in its "file" field', { status: 400 });
  }
  const fileKey = `${crypto.randomUUID()}-${file.name}`;
  const object = await env.UPLOADS.put(fileKey, file, {
    httpMetadata: { contentType: file.type || 'application/octet-stream' },
  });
  return Response.json({ fileKey, size: object.size }, { status: 201 });
}
