// The seed's Quick Start Worker, unmodified:
// Hello World Worker
export default {
  async fetch(request, env, ctx) {
    return new Response('Hello from Cloudflare Workers!');
  }
};
