// Hello World Worker (the seed's Quick Start, unmodified).
export default {
  async fetch(request, env, ctx) {
    return new Response('Hello from Cloudflare Workers!');
  }
};
