// The seed's "Database Integration" Worker (workers-seed.md), unmodified.
// Workers with database connectivity
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    
    if (url.pathname === '/api/posts' && request.method === 'GET') {
      return handleGetPosts(request, env);
    }
    
    if (url.pathname === '/api/posts' && request.method === 'POST') {
      return handleCreatePost(request, env);
    }
    
    return new Response('Not Found', { status: 404 });
  }
};

async function handleGetPosts(request, env) {
  const url = new URL(request.url);
  const page = parseInt(url.searchParams.get('page') || '1');
  const limit = parseInt(url.searchParams.get('limit') || '10');
  const offset = (page - 1) * limit;
  
  try {
    // Using D1 database
    const { results } = await env.DB.prepare(`
      SELECT id, title, content, author, created_at 
      FROM posts 
      ORDER BY created_at DESC 
      LIMIT ? OFFSET ?
    `).bind(limit, offset).all();
    
    const { results: [{ count }] } = await env.DB.prepare(
      'SELECT COUNT(*) as count FROM posts'
    ).all();
    
    return Response.json({
      posts: results,
      pagination: {
        page,
        limit,
        total: count,
        pages: Math.ceil(count / limit),
      },
    });
  } catch (error) {
    console.error('Database error:', error);
    return new Response('Database error', { status: 500 });
  }
}

async function handleCreatePost(request, env) {
  try {
    const postData = await request.json();
    
    // Validation
    if (!postData.title || !postData.content) {
      return new Response('Title and content are required', { status: 400 });
    }
    
    // Insert into database
    const { success, meta } = await env.DB.prepare(`
      INSERT INTO posts (title, content, author, created_at)
      VALUES (?, ?, ?, ?)
    `).bind(
      postData.title,
      postData.content,
      postData.author || 'Anonymous',
      new Date().toISOString()
    ).run();
    
    if (success) {
      return Response.json({
        id: meta.last_row_id,
        message: 'Post created successfully',
      }, { status: 201 });
    } else {
      return new Response('Failed to create post', { status: 500 });
    }
  } catch (error) {
    console.error('Error creating post:', error);
    return new Response('Invalid request data', { status: 400 });
  }
}
