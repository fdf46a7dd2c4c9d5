import type { ModelInfo } from '../../../api/types';
import { formatMetric, metricLabel } from '../../../lib/format';
import { scopeSummary } from '../../models/ModelScopePanel';

interface Props {
  models: ModelInfo[];
  value: string;
  onChange: (name: string) => void;
  disabled?: boolean;
}

const HEADLINE = ['accuracy', 'roc_auc', 'average_precision', 'f1'];

export function headlineMetrics(model: ModelInfo): [string, number][] {
  return HEADLINE.flatMap((k) => {
    const v = model.metrics?.[k];
    return typeof v === 'number' ? [[k, v] as [string, number]] : [];
  });
}

export function ModelSelector({ models, value, onChange, disabled }: Props) {
  const selected = models.find((m) => m.name === value) ?? models[0];
  return (
    <div className="model-selector">
      <label htmlFor="model-select" className="field-label">
        Model
      </label>
      <select
        id="model-select"
        value={selected?.name ?? ''}
        disabled={disabled}
        onChange={(e) => onChange(e.currentTarget.value)}
        aria-describedby="model-summary"
      >
        {models.map((m) => (
          <option key={m.name} value={m.name}>
            {m.name} ({m.architecture}, v{m.version}){m.default ? ' - default' : ''}
          </option>
        ))}
      </select>
      {selected && (
        <div id="model-summary" className="model-summary">
          {selected.description && <p>{selected.description}</p>}
          {headlineMetrics(selected).length > 0 ? (
            <dl className="metrics" aria-label={`Measured performance of ${selected.name}`}>
              {headlineMetrics(selected).map(([k, v]) => (
                <div key={k} className="metrics__item">
                  <dt>{metricLabel(k)}</dt>
                  <dd>{formatMetric(k, v)}</dd>
                </div>
              ))}
            </dl>
          ) : (
            <p className="hint">No measured metrics were published with this model.</p>
          )}
          {headlineMetrics(selected).length > 0 && selected.metrics_n ? (
            <p className="hint">Measured on {selected.metrics_n} test images.</p>
          ) : null}
          <p className="model-scope" aria-label={`What ${selected.name} has seen`}>
            {scopeSummary(selected)}
          </p>
        </div>
      )}
    </div>
  );
}
