/** 0.8734 -> "87%"; keeps one decimal near the ends so 0.996 does not read as a certain 100%. */
export function percent(p: number): string {
  const v = p * 100;
  if (v > 0 && v < 0.05) return '<0.1%';
  if (v > 99.95 && v < 100) return '>99.9%';
  if ((v > 0 && v < 1) || (v > 99 && v < 100)) return `${v.toFixed(1)}%`;
  return `${Math.round(v)}%`;
}

export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms)} ms`;
}

export function formatMetric(name: string, value: number): string {
  // Rates read as percentages; anything else (loss, counts) as a plain number.
  const rates = ['accuracy', 'roc_auc', 'average_precision', 'f1', 'precision', 'recall', 'tpr', 'fpr', 'balanced_accuracy'];
  if (rates.some((r) => name.toLowerCase().includes(r)) && value >= 0 && value <= 1) {
    return `${(value * 100).toFixed(1)}%`;
  }
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

const METRIC_LABELS: Record<string, string> = {
  accuracy: 'Accuracy',
  roc_auc: 'ROC AUC',
  average_precision: 'Average precision',
  f1: 'F1 score',
  precision: 'Precision',
  recall: 'Recall',
};

export function metricLabel(name: string): string {
  return METRIC_LABELS[name] ?? name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}
