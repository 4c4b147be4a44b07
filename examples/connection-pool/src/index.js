// The seed's connection pool (workers-seed.md, "Performance Optimization", "2. Connection Pooling"), as
// written there. The pool is a module global, so it is shared by the requests one isolate serves at the
// same time: at most 20 of them fetch the upstream at once, the rest wait in its queue.
// Efficient external API connections
class ConnectionPool {
  constructor(maxConnections = 10) {
    this.maxConnections = maxConnections;
    this.activeConnections = 0;
    this.waitingQueue = [];
  }
  
  async acquire() {
    if (this.activeConnections < this.maxConnections) {
      this.activeConnections++;
      return new PooledConnection(this);
    }
    
    // Wait for available connection
    return new Promise((resolve) => {
      this.waitingQueue.push(resolve);
    });
  }
  
  release() {
    this.activeConnections--;
    
    if (this.waitingQueue.length > 0) {
      const resolve = this.waitingQueue.shift();
      this.activeConnections++;
      resolve(new PooledConnection(this));
    }
  }
}

class PooledConnection {
  constructor(pool) {
    this.pool = pool;
    this.released = false;
  }
  
  async fetch(url, options) {
    if (this.released) {
      throw new Error('Connection already released');
    }
    
    try {
      return await fetch(url, options);
    } finally {
      this.release();
    }
  }
  
  release() {
    if (!this.released) {
      this.released = true;
      this.pool.release();
    }
  }
}

// Global connection pool
const pool = new ConnectionPool(20);

export default {
  async fetch(request, env, ctx) {
    const connection = await pool.acquire();
    
    try {
      const response = await connection.fetch('https://api.example.com/data');
      return response;
    } catch (error) {
      return new Response('Service unavailable', { status: 503 });
    }
  }
};
