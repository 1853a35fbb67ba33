// @ts-check
// Preloaded (`node --import ./bench/nodelay.mjs`) by bench/ssh.mjs: every TCP socket the
// process opens or accepts gets TCP_NODELAY. Two uses:
// - into the test foundation with --proxy-nodelay: its SSH proxy's sockets then behave as
//   those of Diego's proxy, written in Go, whose net package sets TCP_NODELAY by default;
// - into cf-ssh-tools for the "ours with TCP_NODELAY" setup row: what setting it on the SSH
//   socket (src/ssh/dial.ts does not; ssh2 does not either) would save.
// Without it, Nagle's algorithm holds a small write back until the previous one is
// acknowledged, and the peer's delayed ACK makes that about 40 ms.
import dc from 'node:diagnostics_channel';

/** @typedef {{ socket: import('node:net').Socket }} SocketMessage */

dc.subscribe('net.server.socket', (message) => /** @type {SocketMessage} */ (message).socket.setNoDelay(true));
dc.subscribe('net.client.socket', (message) => /** @type {SocketMessage} */ (message).socket.setNoDelay(true));
