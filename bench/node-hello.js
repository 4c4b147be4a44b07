// The peer for the hello-world HTTP benchmark: Node.js's own http module, one process (one core).
// With the argument h2 it serves HTTP/2 cleartext (prior knowledge) through the http2 module's compatible API.
const http = process.argv[3] === 'h2' ? require('http2') : require('http');
const port = Number(process.argv[2] || 8788);
http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain;charset=UTF-8' });
  res.end('Hello from Cloudflare Workers!');
}).listen(port, '127.0.0.1', () => console.log(`Ready on http://127.0.0.1:${port}`));
