// Node's equivalent of bench/json-api.js for the HTTP benchmark: the same work with Node's http module.
// With the argument h2 it serves HTTP/2 cleartext (prior knowledge) through the http2 module's compatible API.
const http = process.argv[3] === 'h2' ? require('http2') : require('http');
const port = Number(process.argv[2] || 8790);
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const id = Number(url.searchParams.get('id') ?? 0);
  const items = [];
  for (let i = 0; i < 5; i++) items.push({ id: id + i, name: `item-${id + i}`, tags: ['a', 'b'] });
  const body = JSON.stringify({ path: url.pathname, agent: req.headers['user-agent'] ?? null, items });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
}).listen(port, '127.0.0.1', () => console.log(`Ready on http://127.0.0.1:${port}`));
