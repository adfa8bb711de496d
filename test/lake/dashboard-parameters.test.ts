import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindWidget, nextScheduledRefresh } from '../../src/lake/index.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('dashboard refresh schedules', () => {
  it('runs an hourly schedule at the minutes of TimeOfDay, every N hours from midnight UTC', () => {
    const every6 = { Frequency: { Unit: 'HOURS' as const, Value: 6 }, Status: 'ENABLED' as const, TimeOfDay: '03:15' };
    assert.equal(iso(nextScheduledRefresh(every6, at('2026-03-01T00:00:00Z'))), '2026-03-01T00:15:00.000Z');
    assert.equal(iso(nextScheduledRefresh(every6, at('2026-03-01T00:15:00Z'))), '2026-03-01T06:15:00.000Z');
    assert.equal(iso(nextScheduledRefresh(every6, at('2026-03-01T23:00:00Z'))), '2026-03-02T00:15:00.000Z');
    const hourly = { Frequency: { Unit: 'HOURS' as const, Value: 1 }, Status: 'ENABLED' as const };
    assert.equal(iso(nextScheduledRefresh(hourly, at('2026-03-01T10:59:59Z'))), '2026-03-01T11:00:00.000Z');
  });

  it('runs a daily schedule at TimeOfDay, and a disabled or frequency-less one never', () => {
    const daily = { Frequency: { Unit: 'DAYS' as const, Value: 1 }, Status: 'ENABLED' as const, TimeOfDay: '22:30' };
    assert.equal(iso(nextScheduledRefresh(daily, at('2026-03-01T12:00:00Z'))), '2026-03-01T22:30:00.000Z');
    assert.equal(iso(nextScheduledRefresh(daily, at('2026-03-01T22:30:00Z'))), '2026-03-02T22:30:00.000Z');
    assert.equal(nextScheduledRefresh({ ...daily, Status: 'DISABLED' }, at('2026-03-01T12:00:00Z')), undefined);
    assert.equal(nextScheduledRefresh({ Status: 'ENABLED' }, at('2026-03-01T12:00:00Z')), undefined);
    assert.equal(nextScheduledRefresh(undefined, at('2026-03-01T12:00:00Z')), undefined);
  });
});

describe('widget parameter marks', () => {
  it("replaces ? and '?' in order, leaving other literals, quoted names and comments alone", () => {
    const sql =
      "SELECT date_trunc('?', eventTime), 'a?b', \"odd?name\" FROM ? -- why?\n WHERE eventTime > '?' /* ? */ AND x = 'it''s'";
    assert.equal(
      bindWidget(sql, ['hour', 'abc-123', '2026-01-01 00:00:00']),
      "SELECT date_trunc('hour', eventTime), 'a?b', \"odd?name\" FROM abc-123 -- why?\n WHERE eventTime > '2026-01-01 00:00:00' /* ? */ AND x = 'it''s'",
    );
  });
});
