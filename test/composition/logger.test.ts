/**
 * The logger blanks `authorization`, `headers.authorization` and `token` at the top of a line and
 * one level down, whichever way it gets there (the fast path for lines without a candidate, the
 * twin logger for the rest), and writes everything else as it is.
 */
import { describe, expect, it } from 'vitest';
import { redactingLogger } from '../../src/composition/logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = redactingLogger({ name: 'attache', level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('the logger', () => {
  it('writes an access-log line as it is', () => {
    const { logger, lines } = capture();
    logger.info({ requestId: 'r1', method: 'POST', path: '/v1/chat/upload/', status: 200, bytesIn: 10, principal: 'store' }, 'request');
    expect(lines[0]).toMatchObject({ name: 'attache', requestId: 'r1', method: 'POST', status: 200, bytesIn: 10, principal: 'store', msg: 'request' });
  });

  it('blanks secrets at the top of a line', () => {
    const { logger, lines } = capture();
    logger.info({ token: 't', authorization: 'a', headers: { authorization: 'h', accept: '*/*' } }, 'top');
    expect(lines[0]).toMatchObject({ token: '[Redacted]', authorization: '[Redacted]', headers: { authorization: '[Redacted]', accept: '*/*' } });
  });

  it('blanks secrets one level down, in plain objects and in errors', () => {
    const { logger, lines } = capture();
    logger.warn({ call: { token: 't', url: 'u' }, upstream: { headers: { authorization: 'h' } } }, 'nested');
    logger.error({ err: Object.assign(new Error('boom'), { authorization: 'a' }) }, 'failed');
    logger.error(Object.assign(new Error('bare'), { token: 't' }));
    expect(lines[0]).toMatchObject({ level: 40, call: { token: '[Redacted]', url: 'u' }, upstream: { headers: { authorization: '[Redacted]' } } });
    expect(lines[1]).toMatchObject({ level: 50, err: { type: 'Error', message: 'boom', authorization: '[Redacted]' }, msg: 'failed' });
    expect(lines[2]).toMatchObject({ err: { message: 'bare', token: '[Redacted]' }, msg: 'bare' });
  });

  it('keeps the bindings and level of a child logger on the twin', () => {
    const { logger, lines } = capture();
    const child = logger.child({ component: 'x' });
    child.level = 'debug';
    child.debug({ call: { token: 't' } }, 'child');
    logger.debug({ call: { token: 't' } }, 'not written: below the root level');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ name: 'attache', component: 'x', level: 20, call: { token: '[Redacted]' }, msg: 'child' });
  });
});
