import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonApiError } from '../../src/client/json-api-error.ts';
import { withServer } from '../helpers/server.ts';

/** The admin API refuses names it could not store or show, with the error type and the rule to follow. */
async function refused(call: Promise<unknown>, type: string, message: RegExp): Promise<void> {
  await assert.rejects(call, (error: JsonApiError) => {
    assert.equal(error.type, type, error.message);
    assert.match(error.message, message);
    return true;
  });
}

describe('admin API input', () => {
  it('takes account names of 1-50 printable ASCII characters, and user names by IAM’s rule', async () => {
    await withServer(async (w) => {
      const admin = w.adminApi();
      for (const Name of ['', 'x'.repeat(51), 'nul\u0000', 'tab\there', 'é']) {
        await refused(admin.call('CreateAccount', { Name }), 'ValidationException', /1-50 printable ASCII/);
      }
      await refused(admin.call('CreateAccount', { Name: 'half \ud800' }), 'SerializationException', /surrogate/);
      await refused(admin.call('CreateAccount', { AccountId: '12345' }), 'ValidationException', /12 digits/);
      const { AccountId } = await admin.call<{ AccountId: string }>('CreateAccount', { Name: 'Team A (prod) ~ 50' });
      await refused(
        admin.call('CreateUser', { AccountId, UserName: 'no spaces' }),
        'ValidationException',
        /1-64 letters/,
      );
    });
  });
});
