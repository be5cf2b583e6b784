/**
 * How the local runtime's visitor-facing servers (the HTTP API, the local distribution) listen.
 *
 * The backlog: connections the kernel holds before the server accepts them. Node's default (511)
 * is below a burst of a thousand visitors connecting at once: the kernel drops the SYNs past it and
 * each of those clients connects again after 1 s, then 3 s, so its answer comes seconds late though
 * the server never saw it waiting (API Gateway and CloudFront accept every connection). Capped by
 * the kernel's net.core.somaxconn (4096 on current Linux).
 */
import type { Server } from 'node:net';

const LISTEN_BACKLOG = 4096;

/** Listens on host:port (0: any free port) and resolves to the port taken. */
export async function listenForBursts(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as { port: number }).port;
}
