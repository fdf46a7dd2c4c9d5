import { describe, expect, it } from 'vitest';
import { formatMetric, formatMs, metricLabel, percent } from './format';

describe('formatting', () => {
  it('writes probabilities as percentages without claiming certainty it does not have', () => {
    expect(percent(0.874)).toBe('87%');
    expect(percent(0)).toBe('0%');
    expect(percent(1)).toBe('100%');
    expect(percent(0.996)).toBe('99.6%');
    expect(percent(0.99996)).toBe('>99.9%');
    expect(percent(0.00001)).toBe('<0.1%');
    expect(percent(0.004)).toBe('0.4%');
  });

  it('writes times and metrics for people', () => {
    expect(formatMs(87.4)).toBe('87 ms');
    expect(formatMs(2345)).toBe('2.3 s');
    expect(formatMetric('roc_auc', 0.9751)).toBe('97.5%');
    expect(formatMetric('n_test', 2000)).toBe('2000');
    expect(metricLabel('average_precision')).toBe('Average precision');
    expect(metricLabel('n_test')).toBe('N test');
  });
});
