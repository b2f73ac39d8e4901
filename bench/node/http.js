// Node's raw ceiling: the http module, one pre-serialised body.
import { createServer } from 'node:http';
import { BODY, HOST, PORT, stopOnSignal } from './common.js';

const payload = Buffer.from(JSON.stringify(BODY));
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': payload.length });
    res.end(payload);
  } else {
    res.writeHead(404).end();
  }
});
server.listen(PORT, HOST);
stopOnSignal((done) => server.close(done));
