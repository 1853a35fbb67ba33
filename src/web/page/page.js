// The web terminal's page: the instance picker (from the same look-ups as `ssh`), one xterm.js
// terminal, and one WebSocket to the server, on which each chosen instance gets its own SSH
// session. Loaded by boot.js after xterm.js and its addons; the token is in sessionStorage.
/* global Terminal, FitAddon, WebLinksAddon */
const token = sessionStorage.getItem('cf-ssh-tools-token');
const $ = (id) => document.getElementById(id);

/** Opens a link the terminal's output made (OSC 8) only when it is a web address: never javascript: or file:. */
const linkHandler = {
  activate: (_event, uri) => /^https?:\/\//i.test(uri) && void window.open(uri, '_blank', 'noopener'),
};
const term = new Terminal({
  cursorBlink: true,
  fontSize: 14,
  lineHeight: 1.15,
  scrollback: 5000,
  fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
  linkHandler,
});
const fit = new FitAddon.FitAddon();
term.loadAddon(fit);
term.loadAddon(new WebLinksAddon.WebLinksAddon());
// For tests and curious users: the terminal, its buffer among it.
window.cfst = { term };

/** Copy and paste as in other terminals: Ctrl+Shift+C and V always, Ctrl+C while text is selected (else it is the shell's). */
term.attachCustomKeyEventHandler((event) => {
  if (event.type !== 'keydown' || !event.ctrlKey || event.altKey || event.metaKey) return true;
  const key = event.key.toLowerCase();
  if (key === 'c' && (event.shiftKey || term.hasSelection())) {
    void navigator.clipboard.writeText(term.getSelection());
    term.clearSelection();
    event.preventDefault();
    return false;
  }
  // Left to the browser, whose paste event xterm.js turns into input.
  return !(key === 'v');
});

let appName = '';
/** The instance of this tab's session, or the one last chosen. */
let chosen;
let socket;
/** From a connect until its session says `connected`: what still arrives is the previous session's, not shown. */
let switching = false;

function setWhere(text) {
  $('where').textContent = text;
}

function showEnded(reason) {
  $('ended-reason').textContent = reason;
  $('ended').hidden = false;
  $('reconnect').focus();
}

function openSocket() {
  const ws = new WebSocket(`ws://${location.host}/tab`, ['cf-ssh-tools', `bearer.${token}`]);
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (message) => {
    if (typeof message.data !== 'string') return switching ? undefined : term.write(new Uint8Array(message.data));
    const event = JSON.parse(message.data);
    if (event.type === 'connected') {
      switching = false;
      const where = `${event.process}/${event.index}`;
      document.title = `${event.app} — ${where}`;
      setWhere(`connected to ${where}`);
      term.focus();
    } else if (event.type === 'ended') {
      setWhere(`${chosen.process}/${chosen.index}: session ended`);
      showEnded(event.reason);
    }
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = undefined;
    const why = 'The connection to web-ssh closed: it has stopped (Ctrl-C, --idle or --lifetime), or the computer slept.';
    if (chosen) return showEnded(`${why} Reconnect tries again.`);
    $('picker-note').textContent = why;
    $('picker-note').className = 'error';
  };
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error('web-ssh is not running any more (or this page’s token has expired): start it again.'));
  });
}

/** While the WebSocket is being opened. */
let opening;

/** The tab's WebSocket, opened when there is none. */
function ensureSocket() {
  if (socket) return Promise.resolve(socket);
  opening ??= openSocket()
    .then((ws) => (socket = ws))
    .finally(() => (opening = undefined));
  return opening;
}

async function connect(process, index) {
  chosen = { process, index };
  $('ended').hidden = true;
  document.title = `${appName} — ${process}/${index}`;
  setWhere(`connecting to ${process}/${index}…`);
  for (const row of $('instances').children) row.classList.toggle('chosen', row.dataset.instance === `${process}/${index}`);
  switching = true;
  // A full reset (RIS) through the write queue, not term.reset(): output of the previous session
  // still queued in xterm.js is drawn first, then wiped; reset() would leave it to be drawn after.
  term.write('\x1bc');
  fit.fit();
  let ws;
  try {
    ws = await ensureSocket();
  } catch (err) {
    setWhere('not connected');
    return showEnded(err.message);
  }
  ws.send(JSON.stringify({ type: 'connect', process, index, cols: term.cols, rows: term.rows }));
}

async function lookUp(name) {
  const response = await fetch(`/api/${name}`, { headers: { Authorization: `Bearer ${token}` } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.append(td);
}

async function refreshInstances() {
  const note = $('picker-note');
  try {
    const listing = await lookUp('instances');
    appName = listing.app;
    $('app-name').textContent = listing.app;
    $('app-env').hidden = !listing.appEnv;
    if (!chosen) document.title = `${listing.app} — web-ssh`;
    const rows = listing.processes.flatMap(({ type, instances }) =>
      instances.map((instance) => {
        const row = document.createElement('tr');
        const where = `${type}/${instance.index}`;
        row.dataset.instance = where;
        row.classList.toggle('chosen', chosen && where === `${chosen.process}/${chosen.index}`);
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = where;
        button.disabled = instance.state !== 'RUNNING';
        button.title = instance.details ?? (button.disabled ? `${instance.state}: not running` : `Open a shell on ${where}`);
        button.onclick = () => void connect(type, instance.index);
        const first = document.createElement('td');
        first.append(button);
        row.append(first);
        cell(row, instance.state);
        cell(row, instance.uptime);
        return row;
      }),
    );
    $('instances').replaceChildren(...rows);
    note.textContent = rows.length === 0 ? `${listing.app} has no instances.` : 'Choose a running instance to open a shell on it.';
    note.className = '';
  } catch (err) {
    note.textContent = `Cannot list the instances: ${err.message}`;
    note.className = 'error';
  }
}

/** The most characters one input message carries: a long paste goes in pieces, each well under the server's 1 MiB a message. */
const INPUT_PIECE = 64 * 1024;

term.onData((data) => {
  if (socket?.readyState !== WebSocket.OPEN) return;
  for (let start = 0; start < data.length;) {
    let end = Math.min(start + INPUT_PIECE, data.length);
    // Not between the two halves of a character beyond the BMP (an emoji, say).
    if (end < data.length && /[\uD800-\uDBFF]/.test(data[end - 1])) end -= 1;
    socket.send(JSON.stringify({ type: 'input', data: data.slice(start, end) }));
    start = end;
  }
});
term.onResize(({ cols, rows }) => socket?.readyState === WebSocket.OPEN && socket.send(JSON.stringify({ type: 'resize', cols, rows })));
$('reconnect').onclick = () => chosen && void connect(chosen.process, chosen.index);
$('refresh').onclick = () => void refreshInstances();

$('status').hidden = true;
$('page').hidden = false;
term.open($('terminal'));
new ResizeObserver(() => fit.fit()).observe($('terminal-area'));
fit.fit();
void refreshInstances();
// The tab counts as open (for --idle) from now on, not only once it has a session.
ensureSocket().catch(() => undefined);
