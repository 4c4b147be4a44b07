// The peer for the hello-world HTTP benchmark: Node.js's own http module, one process (one core).
const http = require('http');
const port = Number(process.argv[2] || 8788);
http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain;charset=UTF-8' });
  res.end('Hello from Cloudflare Workers!');
}).listen(port, '127.0.0.1', () => console.log(`Ready on http://127.0.0.1:${port}`));
