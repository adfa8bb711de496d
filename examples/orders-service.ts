/**
 * An Express orders service whose API calls are recorded in opentrail by @opentrail/recorder. With opentrail
 * running (`npm start`) and the credentials it printed exported:
 *
 *   OPENTRAIL_ENDPOINT=http://127.0.0.1:4790 AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… npx tsx examples/orders-service.ts
 *   curl -X POST http://127.0.0.1:3000/orders -H 'x-user: alice' -H 'content-type: application/json' \
 *        -d '{"item":"book","cardNumber":"4111111111111111"}'
 *   curl http://127.0.0.1:3000/orders/1 -H 'x-user: alice'
 *   curl -X DELETE http://127.0.0.1:3000/orders/2 -H 'x-user: bob'        # 404: recorded with errorCode 404
 *   aws cloudtrail lookup-events --endpoint-url http://127.0.0.1:4790 \
 *       --lookup-attributes AttributeKey=EventSource,AttributeValue=orders.example.com
 *
 * Stop opentrail and the service keeps answering; its records wait in ./opentrail-spool and are delivered
 * when opentrail is back. Ctrl-C (or SIGTERM) closes the server, then the recorder, which sends what is left.
 */
import express from 'express';
// In your own service: import { createRecorder, DEFAULT_REDACT } from '@opentrail/recorder';
import { createRecorder, DEFAULT_REDACT } from '../packages/recorder/src/index.ts';

const recorder = createRecorder({
  endpoint: process.env['OPENTRAIL_ENDPOINT'] ?? 'http://127.0.0.1:4790',
  region: process.env['AWS_REGION'] ?? 'us-east-1',
  credentials: {
    accessKeyId: process.env['AWS_ACCESS_KEY_ID'] ?? '',
    secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] ?? '',
  },
  eventSource: 'orders.example.com',
  operations: {
    'POST /orders': 'CreateOrder',
    'GET /orders/:id': 'GetOrder',
    'DELETE /orders/:id': 'CancelOrder',
  },
  // Your authentication decides who the caller is; here a gateway's header stands in for it.
  identify: (req) => {
    const user = req.headers['x-user'];
    return typeof user === 'string' ? { type: 'IAMUser', userName: user } : undefined;
  },
  // The defaults (password, token, …) and this service's own secret.
  redact: [...DEFAULT_REDACT, 'cardNumber'],
  spoolDir: process.env['SPOOL_DIR'] ?? './opentrail-spool',
  onError: (error) => console.warn(`opentrail recorder: ${error.name}: ${error.message}`),
});

const orders = new Map<string, { item: string; status: string }>();
let lastId = 0;

const app = express();
app.use(recorder.express());
app.use(express.json());
app.post('/orders', (req, res) => {
  const orderId = String(++lastId);
  orders.set(orderId, { item: String(req.body?.item), status: 'placed' });
  recorder.annotate(req, { responseElements: { orderId } });
  res.status(201).json({ orderId });
});
app.get('/orders/:id', (req, res) => {
  const order = orders.get(req.params.id);
  if (order === undefined) res.status(404).json({ message: 'no such order' });
  else res.json(order);
});
app.delete('/orders/:id', (req, res) => {
  if (!orders.delete(req.params.id)) res.status(404).json({ message: 'no such order' });
  else res.status(204).end();
});

const server = app.listen(Number(process.env['PORT'] ?? 3000), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : '?';
  console.log(`orders service listening on http://127.0.0.1:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(async () => {
      await recorder.close();
      console.log(`stopped; recorder ${JSON.stringify(recorder.stats())}`);
    });
  });
}
