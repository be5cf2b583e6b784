/**
 * Freezing an in-process server as SIGSTOP freezes a process of its own (the fault tests pause the
 * queue emulator, which runs in this process): while frozen, its open connections are not read and
 * new ones are accepted by the kernel but not served; on thaw, everything proceeds in order.
 * Requests already read when it froze are still answered, as a process stopped right after
 * reading them would answer them once continued.
 */
import type net from 'node:net';

export type Thaw = () => void;

export function freezable(servers: readonly net.Server[]): () => Thaw {
  const sockets = new Set<net.Socket>();
  const held: net.Socket[] = [];
  let frozen = false;
  const emits = servers.map((server) => {
    const emit = server.emit.bind(server);
    server.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    // A new connection is held back from the server (an http server reads it at once otherwise).
    server.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'connection' && frozen) {
        held.push(args[0] as net.Socket);
        return true;
      }
      return emit(event, ...args);
    }) as typeof server.emit;
    return { server, emit };
  });
  return () => {
    if (frozen) throw new Error('already frozen');
    frozen = true;
    for (const socket of sockets) socket.pause();
    return () => {
      frozen = false;
      for (const socket of sockets) socket.resume();
      for (const socket of held.splice(0)) emits.find((e) => e.server.listening)?.emit('connection', socket);
    };
  };
}
