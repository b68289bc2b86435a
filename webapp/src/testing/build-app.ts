// Test support: the app built for one test and closed when it ends, as fastify/demo's helper does.
import type { TestContext } from 'node:test';
import { buildApp, type AppOptions } from '../app.ts';

export function build(t: TestContext, options: AppOptions): ReturnType<typeof buildApp> {
  const app = buildApp(options);
  t.after(() => app.close());
  return app;
}
