// The seed's handleUsers ("Request/Response Handling"), as written there (examples/users-api serves the
// whole router).
export async function handleUsers(request, env) {
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
