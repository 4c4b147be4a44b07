// The chat page: one WebSocket to the Worker's /ws?room=NAME, speaking the seed's ChatRoom protocol.
// Sent: {type: 'chat', username, text} and {type: 'typing', username, isTyping}. Received: the 'welcome'
// the room sends on joining, the other members' 'chat' and 'typing' messages (the room does not echo a
// message to its sender, so the page shows its own messages itself), and {error} for a bad message.
// ?name=...&room=... in the page's address fill the form and join at once.
(() => {
  const $ = (id) => document.getElementById(id);
  const log = $('log');
  let socket = null;
  let username = '';
  let typingTimer = 0;
  const typingNow = new Map(); // username -> timer that clears their "is typing" after a quiet while

  function show(text, kind) {
    const li = document.createElement('li');
    li.className = kind;
    li.textContent = text;
    log.appendChild(li);
    li.scrollIntoView({ block: 'nearest' });
  }

  function showTyping() {
    const names = [...typingNow.keys()];
    $('typing').textContent = names.length ? `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} typing…` : '';
  }

  function setTyping(name, isTyping) {
    clearTimeout(typingNow.get(name));
    typingNow.delete(name);
    if (isTyping) typingNow.set(name, setTimeout(() => { typingNow.delete(name); showTyping(); }, 5000));
    showTyping();
  }

  function setConnected(connected, status) {
    $('status').textContent = status;
    $('name').disabled = $('room').disabled = socket !== null; // joined or joining: leave first
    $('text').disabled = !connected;
    $('send').disabled = !connected;
    $('connect').textContent = connected ? 'Leave' : 'Join';
    document.body.dataset.state = connected ? 'open' : 'closed';
  }

  function receive(event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      show(`(unreadable message: ${event.data})`, 'error');
      return;
    }
    if (message.error) {
      show(`Error: ${message.error}`, 'error');
    } else if (message.type === 'welcome') {
      const others = message.userCount - 1;
      show(`${message.message}; ${others} other${others === 1 ? '' : 's'} here`, 'system');
    } else if (message.type === 'chat') {
      setTyping(message.username, false);
      show(`${message.username}: ${message.text}`, 'chat');
    } else if (message.type === 'typing') {
      setTyping(message.username, message.isTyping);
    }
  }

  function join(room, name) {
    username = name;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/ws?room=${encodeURIComponent(room)}`);
    socket = ws;
    setConnected(false, `connecting to ${room}…`);
    ws.addEventListener('open', () => setConnected(true, `in room ${room} as ${name}`));
    ws.addEventListener('message', receive);
    ws.addEventListener('close', (event) => {
      if (socket === ws) socket = null;
      typingNow.forEach((timer) => clearTimeout(timer));
      typingNow.clear();
      showTyping();
      show(`Disconnected (${event.code}${event.reason ? ' ' + event.reason : ''})`, 'system');
      setConnected(false, 'not connected');
    });
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  $('join').addEventListener('submit', (event) => {
    event.preventDefault();
    if (socket) {
      socket.close(1000, 'left');
      return;
    }
    join($('room').value.trim(), $('name').value.trim());
  });

  $('say').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('text').value;
    if (!text.trim() || !socket) return;
    clearTimeout(typingTimer);
    typingTimer = 0;
    send({ type: 'chat', username, text });
    show(`${username}: ${text}`, 'me');
    $('text').value = '';
  });

  // "is typing" while keys are pressed, cleared after two quiet seconds or when the message is sent.
  $('text').addEventListener('input', () => {
    if (!typingTimer) send({ type: 'typing', username, isTyping: true });
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      typingTimer = 0;
      send({ type: 'typing', username, isTyping: false });
    }, 2000);
  });

  const params = new URLSearchParams(location.search);
  if (params.get('room')) $('room').value = params.get('room');
  if (params.get('name')) {
    $('name').value = params.get('name');
    join($('room').value.trim(), params.get('name'));
  }
})();
