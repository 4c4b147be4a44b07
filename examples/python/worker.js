/*
 * The Worker behind examples/python/serve.py. Service-worker form and ES5 only (the compiler for modern
 * syntax does not exist yet). GREETING is an env var and VISITS a host binding, both given by serve.py.
 */
addEventListener('fetch', function (event) {
  event.respondWith(handle(event.request));
});

/* The path of an absolute URL, without query or fragment. */
function pathOf(url) {
  return url.replace(/^https?:\/\/[^\/]+/, '').replace(/[?#].*$/, '') || '/';
}

function handle(request) {
  var path = pathOf(request.url);
  if (path === '/') {
    return new Response(GREETING + ' from a Worker, served by Python\n');
  }
  if (path === '/visits') {
    // VISITS.increment is a Python method: it returns a Promise of its result.
    return VISITS.increment(path).then(function (n) {
      return Response.json({ path: path, visits: n });
    });
  }
  if (path === '/echo' && request.method === 'POST') {
    return request.text().then(function (text) {
      return new Response(text, {
        headers: { 'content-type': request.headers.get('content-type') || 'application/octet-stream' }
      });
    });
  }
  if (path === '/headers') {
    var seen = {};
    request.headers.forEach(function (value, name) { seen[name] = value; });
    return Response.json({ method: request.method, url: request.url, headers: seen });
  }
  if (path === '/cookie') {
    var headers = new Headers();
    headers.append('Set-Cookie', 'a=1; Path=/');
    headers.append('Set-Cookie', 'b=2; Path=/');
    return new Response('two cookies\n', { headers: headers });
  }
  if (path === '/error') {
    throw new Error('this route fails on purpose');
  }
  return new Response('Not found: ' + path + '\n', { status: 404 });
}
