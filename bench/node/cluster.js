// All-cores mode for any Node server: `WORKERS=N node cluster.js <server.js>` forks N copies that share
// one listening socket (Node 20 has no reusePort), the way a Node service uses every core without a proxy.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

const script = process.argv[2];
if (!script) {
  console.error('usage: WORKERS=N node cluster.js <server.js>');
  process.exit(2);
}
const workers = Number(process.env.WORKERS ?? availableParallelism());
cluster.setupPrimary({ exec: resolve(script) });
for (let i = 0; i < workers; i += 1) cluster.fork();
let stopping = false;
cluster.on('exit', (worker, code) => {
  if (!stopping) {
    console.error(`worker ${worker.process.pid} exited with ${code}`);
    process.exitCode = 1;
  }
  if (Object.keys(cluster.workers ?? {}).length === 0) process.exit();
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  });
}
