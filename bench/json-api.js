// The "JSON API" Worker of the HTTP benchmark (bench/run.sh): parses the URL, reads a header and a query
// parameter, and answers JSON built from them — the shape of a small API handler. Same code in ew-server and
// workerd; bench/node-json.js is Node's equivalent.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const id = Number(url.searchParams.get('id') ?? 0);
    const items = [];
    for (let i = 0; i < 5; i++) items.push({ id: id + i, name: `item-${id + i}`, tags: ['a', 'b'] });
    return Response.json({ path: url.pathname, agent: request.headers.get('user-agent'), items });
  },
};
