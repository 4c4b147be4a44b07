// The seed's WebSocket chat room (workers-seed.md, "2. WebSocket Handling"), unmodified.
// WebSocket server with Durable Objects
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    
    if (url.pathname === '/ws') {
      const upgradeHeader = request.headers.get('Upgrade');
      if (upgradeHeader !== 'websocket') {
        return new Response('Expected websocket', { status: 400 });
      }
      
      // Get room ID from query params
      const roomId = url.searchParams.get('room') || 'general';
      
      // Get Durable Object for this room
      const durableObjectId = env.CHAT_ROOM.idFromName(roomId);
      const durableObject = env.CHAT_ROOM.get(durableObjectId);
      
      // Forward WebSocket connection to Durable Object
      return durableObject.fetch(request);
    }
    
    return new Response('Not Found', { status: 404 });
  }
};

// Durable Object class for WebSocket chat room
export class ChatRoom {
  constructor(state, env) {
    this.state = state;
    this.env = env;
    this.sessions = new Set();
  }
  
  async fetch(request) {
    const webSocketPair = new WebSocketPair();
    const [client, server] = Object.values(webSocketPair);
    
    // Accept WebSocket connection
    server.accept();
    
    // Add to sessions
    this.sessions.add(server);
    
    // Handle messages
    server.addEventListener('message', async (event) => {
      try {
        const message = JSON.parse(event.data);
        await this.handleMessage(server, message);
      } catch (error) {
        server.send(JSON.stringify({ error: 'Invalid message format' }));
      }
    });
    
    // Handle close
    server.addEventListener('close', () => {
      this.sessions.delete(server);
    });
    
    // Send welcome message
    server.send(JSON.stringify({
      type: 'welcome',
      message: 'Connected to chat room',
      userCount: this.sessions.size,
    }));
    
    return new Response(null, {
      status: 101,
      webSocket: client,
    });
  }
  
  async handleMessage(sender, message) {
    switch (message.type) {
      case 'chat':
        await this.broadcastMessage({
          type: 'chat',
          username: message.username,
          text: message.text,
          timestamp: Date.now(),
        }, sender);
        break;
        
      case 'typing':
        await this.broadcastMessage({
          type: 'typing',
          username: message.username,
          isTyping: message.isTyping,
        }, sender);
        break;
    }
  }
  
  async broadcastMessage(message, sender) {
    const messageString = JSON.stringify(message);
    
    // Send to all connected clients except sender
    for (const session of this.sessions) {
      if (session !== sender) {
        try {
          session.send(messageString);
        } catch (error) {
          // Remove broken connections
          this.sessions.delete(session);
        }
      }
    }
  }
}
