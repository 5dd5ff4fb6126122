// OpenTelemetry spans of Tusker, printed as they end: a publish inside an application span, its
// job handled by a second Tusker instance (its span linked to the publish), a lock taken inside
// the handler, and a task barrier's handler.
// Run: npx tsx examples/tracing.ts   (needs @opentelemetry/sdk-trace-node, a devDependency here)
import { SpanKind, trace } from '@opentelemetry/api';
import { NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { Tusker } from '../src/index';
import { redisForExample } from './support/redis';

/** Prints one line per span: name, kind, trace id (short), parent or link, Tusker's attributes. */
const printer: SpanExporter = {
  export(spans: ReadableSpan[], done: (result: { code: number }) => void) {
    for (const s of spans) {
      const id = (x: string | undefined) => x?.slice(0, 8) ?? '-';
      const from = s.links[0] ? `link→${id(s.links[0].context.spanId)}` : `parent ${id(s.parentSpanContext?.spanId)}`;
      const attributes = Object.entries(s.attributes).filter(([k]) => k.startsWith('tusker.') || k === 'messaging.operation.type');
      console.log(`${s.name.padEnd(16)} ${SpanKind[s.kind].padEnd(8)} trace ${id(s.spanContext().traceId)} span ${id(s.spanContext().spanId)} ${from.padEnd(16)} ${attributes.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    }
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};

async function main(): Promise<void> {
  // register() installs the AsyncLocalStorage context manager: the active span follows awaits
  new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(printer)] }).register();
  const redis = await redisForExample();
  const prefix = `tracing-example-${process.pid}`;
  const shop = new Tusker({ connection: redis.url, prefix });
  const worker = new Tusker({ connection: redis.url, prefix });
  const app = trace.getTracer('shop');

  const done = new Promise<void>((resolve) => {
    worker.queue<{ order: number }>('emails').process(async (job) => {
      // spans made in a handler are children of its "process emails" span
      await worker.withLock(`order-${job.data.order}`, () => undefined, { group: 'orders' });
      resolve();
      return 'sent';
    });
  });
  await app.startActiveSpan('checkout', async (span) => {
    await shop.queue('emails').publish({ order: 42 });
    span.end();
  });
  await done;

  const encode = worker.tasks('encode');
  await encode.closeTask('video-7', { size: 'large' });
  await new Promise<void>((resolve) => {
    encode.process(() => undefined, { onFinished: () => resolve() });
  });

  await Promise.all([shop.close(), worker.close()]);
  await redis.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
