// WebSocketPair, WebSocket, MessageEvent, CloseEvent and Response's webSocket, as in workerd
// (api/web-socket.c++): pair order, accept/send/close rules and their errors, local delivery between ends.
import { test, assert, assertEquals, assertThrows, run } from './harness.js';

const nextEvent = (ws, type) => new Promise((resolve) => ws.addEventListener(type, resolve, { once: true }));

test('WebSocketPair gives client then server, for Object.values and destructuring', () => {
  const pair = new WebSocketPair();
  const [client, server] = Object.values(pair);
  assert(client === pair[0] && server === pair[1]);
  assert(client instanceof WebSocket && server instanceof WebSocket);
  assertEquals(Object.keys(pair), ['0', '1']);
  const [a, b] = pair;
  assert(a === client && b === server);
  assertThrows(() => WebSocketPair(), TypeError);
});

test('new WebSocket checks its URL and protocols like workerd', () => {
  const syntax = (f, message) => {
    let caught;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    assert(caught instanceof DOMException && caught.name === 'SyntaxError', String(caught));
    assertEquals(caught.message, 'WebSocket Constructor: ' + message);
  };
  syntax(() => new WebSocket('not a url'), 'The url is invalid.');
  syntax(() => new WebSocket('http://example.com/'), 'The url scheme must be ws or wss.');
  syntax(() => new WebSocket('ws://example.com/#x'), 'The url fragment must be empty.');
  syntax(() => new WebSocket('ws://example.com/', []), 'The protocols array cannot be empty.');
  syntax(() => new WebSocket('ws://example.com/', 'a b'), 'The protocol header token is invalid.');
  syntax(() => new WebSocket('ws://example.com/', ['a', 'a']), 'The protocols header cannot have repeating values.');
  assertThrows(() => WebSocket('ws://example.com/'), TypeError);
});

test('readyState and constants', () => {
  const [client, server] = Object.values(new WebSocketPair());
  assertEquals(WebSocket.OPEN, 1);
  assertEquals(WebSocket.READY_STATE_CLOSED, 3);
  assertEquals(server.readyState, WebSocket.OPEN);
  assertEquals(client.url, null);
  assertEquals(server.binaryType, 'arraybuffer');
});

test('send and close before accept() throw like workerd', () => {
  const [, server] = Object.values(new WebSocketPair());
  assertThrows(() => server.send('x'), TypeError,
    'You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.');
  assertThrows(() => server.close(1000), TypeError,
    'You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.');
});

test('close() validates code and reason', () => {
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  client.accept();
  assertThrows(() => server.close(999), TypeError, 'Invalid WebSocket close code: 999.');
  assertThrows(() => server.close(1006), TypeError, 'Invalid WebSocket close code: 1006.');
  assertThrows(() => server.close(5000), TypeError, 'Invalid WebSocket close code: 5000.');
  assertThrows(() => server.close(undefined, 'why'), TypeError,
    'If you specify a WebSocket close reason, you must also specify a code.');
  let caught;
  try {
    server.close(1000, 'x'.repeat(124));
  } catch (e) {
    caught = e;
  }
  assert(caught instanceof DOMException && caught.name === 'SyntaxError', String(caught));
  server.close(4000, 'done');
  assertEquals(server.readyState, WebSocket.CLOSING);
  assertThrows(() => server.send('late'), TypeError, "Can't call WebSocket send() after close().");
  server.close(1000); // a second close is ignored
});

test('messages flow between accepted ends in order, strings and ArrayBuffers', async () => {
  const [client, server] = Object.values(new WebSocketPair());
  const got = [];
  server.accept();
  server.send('one');
  server.send(new Uint8Array([1, 2, 3]));
  const view = new Uint8Array([9, 8, 7, 6]);
  server.send(view.subarray(1, 3));
  view[1] = 0; // the message was copied when sent
  client.addEventListener('message', (e) => got.push(e.data));
  client.accept(); // queued messages arrive after accept()
  await new Promise((r) => setTimeout(r, 1));
  assertEquals(got.length, 3);
  assertEquals(got[0], 'one');
  assert(got[1] instanceof ArrayBuffer);
  assertEquals(Array.from(new Uint8Array(got[1])), [1, 2, 3]);
  assertEquals(Array.from(new Uint8Array(got[2])), [8, 7]);
});

test('message events are MessageEvents with target, and listeners can be removed', async () => {
  const [client, server] = Object.values(new WebSocketPair());
  client.accept();
  server.accept();
  let count = 0;
  const onMsg = () => count++;
  server.addEventListener('message', onMsg);
  const ev = nextEvent(server, 'message');
  client.send('hi');
  const e = await ev;
  assert(e instanceof MessageEvent);
  assertEquals(e.type, 'message');
  assertEquals(e.data, 'hi');
  assert(e.target === server);
  server.removeEventListener('message', onMsg);
  client.send('again');
  await nextEvent(server, 'message');
  assertEquals(count, 1);
});

test('close is delivered with code, reason, wasClean and answered automatically', async () => {
  const [client, server] = Object.values(new WebSocketPair());
  client.accept();
  server.accept();
  const serverClosed = nextEvent(server, 'close');
  const clientClosed = nextEvent(client, 'close');
  client.close(4001, 'bye');
  const e = await serverClosed;
  assert(e instanceof CloseEvent);
  assertEquals([e.code, e.reason, e.wasClean], [4001, 'bye', true]);
  const back = await clientClosed;
  assertEquals(back.code, 4001);
  assertEquals(client.readyState, WebSocket.CLOSED);
  assertEquals(server.readyState, WebSocket.CLOSED);
});

test('accept({allowHalfOpen: true}) leaves the answer to a close to the script', async () => {
  const [client, server] = Object.values(new WebSocketPair());
  client.accept();
  server.accept({ allowHalfOpen: true });
  const clientClosed = nextEvent(client, 'close');
  let answered = false;
  clientClosed.then(() => { answered = true; });
  const serverClosed = nextEvent(server, 'close');
  client.close(1000, 'bye');
  const e = await serverClosed;
  assertEquals([e.code, e.reason], [1000, 'bye']);
  await scheduler.wait(1);
  assertEquals([server.readyState, client.readyState, answered], [WebSocket.CLOSING, WebSocket.CLOSING, false]);
  server.send('still sending'); // half-open: this side may still talk
  const last = await nextEvent(client, 'message');
  assertEquals(last.data, 'still sending');
  server.close(4000, 'done');
  const back = await clientClosed;
  assertEquals([back.code, back.reason, back.wasClean], [4000, 'done', true]);
  assertEquals([server.readyState, client.readyState], [WebSocket.CLOSED, WebSocket.CLOSED]);
});

test('accept() options: undefined, null and objects; anything else is a TypeError', () => {
  const [a, b, c, d] = [...Object.values(new WebSocketPair()), ...Object.values(new WebSocketPair())];
  a.accept(undefined);
  b.accept(null);
  c.accept({});
  assertThrows(() => d.accept(true), TypeError,
               "Failed to execute 'accept' on 'WebSocket': parameter 1 is not of type 'AcceptOptions'.");
});

test('WebSocket is an EventTarget; its events are Events; onmessage works', async () => {
  const [client, server] = Object.values(new WebSocketPair());
  assert(server instanceof EventTarget);
  assert(Object.getPrototypeOf(WebSocket) === EventTarget);
  client.accept();
  server.accept();
  const seen = [];
  server.onmessage = (e) => seen.push(['on', e.data, e.isTrusted, e instanceof Event]);
  server.addEventListener('message', (e) => seen.push(['listener', e.data]));
  const done = nextEvent(server, 'message');
  client.send('m');
  await done;
  assertEquals(seen, [['on', 'm', true, true], ['listener', 'm']]);
});

test('MessageEvent and CloseEvent can be constructed', () => {
  const m = new MessageEvent('message', { data: 'd' });
  assertEquals([m.type, m.data], ['message', 'd']);
  const c = new CloseEvent('close', { code: 1000, reason: 'r', wasClean: true });
  assertEquals([c.code, c.reason, c.wasClean], [1000, 'r', true]);
  assert(m instanceof Event && c instanceof Event && !m.isTrusted);
  assertEquals(Object.prototype.toString.call(c), '[object CloseEvent]');
  assertThrows(() => new MessageEvent(), TypeError);
});

test('Response accepts a WebSocket only with status 101, and exposes it', () => {
  const [client] = Object.values(new WebSocketPair());
  const r = new Response(null, { status: 101, webSocket: client });
  assertEquals(r.status, 101);
  assert(r.webSocket === client);
  assertEquals(new Response('x').webSocket, null);
  assertThrows(() => new Response(null, { status: 101 }), RangeError);
  assertThrows(() => new Response(null, { status: 200, webSocket: client }), RangeError);
  assertThrows(() => new Response(null, { status: 101, webSocket: {} }), TypeError);
});

test('accept() twice is allowed', () => {
  const [client] = Object.values(new WebSocketPair());
  client.accept();
  client.accept(); // twice is fine
});

export default { fetch: run };
