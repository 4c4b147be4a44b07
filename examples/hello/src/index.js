// Hello world in the service-worker form, which Cloudflare still runs. The module form of the seed
// (export default { fetch }) runs once the compiler lands (see the compiler issue).
addEventListener('fetch', function (event) {
  event.respondWith(new Response('Hello from Cloudflare Workers!'));
});
