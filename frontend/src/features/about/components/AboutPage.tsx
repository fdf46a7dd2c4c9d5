import type { ModelInfo } from '../../../api/types';
import type { ModelsState } from '../../detect/api/useModels';
import { formatMetric, metricLabel, percent } from '../../../lib/format';
import { ModelScopePanel, scopeSummary } from '../../models/ModelScopePanel';

function inputDescription(model: ModelInfo): string {
  const input = model.input;
  if (!input) return model.members?.length ? 'Input: as each member model takes it.' : '';
  if (input.policy === 'crops') {
    return `Input: crops of ${input.size}×${input.size} pixels at native resolution, scores combined.`;
  }
  if (input.policy === 'resize') return `Input: the whole picture resized to ${input.size}×${input.size} pixels.`;
  return `Input: ${input.policy}, ${input.size} pixels.`;
}

function ModelFacts({ model }: { model: ModelInfo }) {
  const metrics = Object.entries(model.metrics ?? {}).filter((e): e is [string, number] => typeof e[1] === 'number');
  return (
    <article className="card" aria-labelledby={`about-${model.name}`}>
      <h3 id={`about-${model.name}`}>
        {model.name} <span className="hint">({model.architecture}, version {model.version})</span>
      </h3>
      {model.description && <p>{model.description}</p>}
      <p>
        {inputDescription(model)} Threshold {percent(model.threshold)}; &ldquo;Uncertain&rdquo; between {percent(model.uncertain_band[0])} and{' '}
        {percent(model.uncertain_band[1])}.
      </p>
      {model.members && model.members.length > 0 && (
        <p>Ensemble of: {model.members.map((m) => `${m.name} (weight ${m.weight})`).join(', ')}.</p>
      )}
      <h4>What it has and has not seen</h4>
      <p>{scopeSummary(model)}</p>
      <ModelScopePanel model={model} />
      <h4>Measured performance</h4>
      {metrics.length > 0 ? (
        <dl className="metrics">
          {metrics.map(([k, v]) => (
            <div key={k} className="metrics__item">
              <dt>{metricLabel(k)}</dt>
              <dd>{formatMetric(k, v)}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <p>No measured metrics were published with this model.</p>
      )}
      <p className="hint">
        {model.metrics_n
          ? `Measured on ${model.metrics_n} test images from the same sources as the training data${model.metrics_n < 100 ? ': a small sample, so each figure can be off by several points' : ''}.`
          : 'The number of test images behind these figures is not recorded.'}
      </p>
    </article>
  );
}

export function AboutPage({ models }: { models: ModelsState & { reload: () => void } }) {
  return (
    <div className="about">
      <section className="card">
        <h2 tabIndex={-1} id="about-heading">
          What this detector can and cannot do
        </h2>
        <p>
          It estimates how likely a picture is to come from an image generator, from two kinds of clues: patterns in
          the pixels that a trained model has learnt to spot, and provenance data such as Content Credentials (C2PA),
          generator metadata and invisible watermarks.
        </p>
        <ul>
          <li>
            <strong>It learnt from particular generators.</strong> Pictures from generators it never saw, especially
            new ones, are detected less reliably, and are often called real.
          </li>
          <li>
            <strong>Heavy JPEG compression, resizing, screenshots and filters reduce accuracy.</strong> They wipe out
            the fine pixel traces the model relies on, and they strip metadata.
          </li>
          <li>
            <strong>Real photos are sometimes flagged.</strong> Heavily edited, denoised or upscaled photos can look
            generated. That is why there is an &ldquo;Uncertain&rdquo; answer instead of a forced guess.
          </li>
          <li>
            <strong>Missing provenance proves nothing.</strong> Most websites remove metadata. Found provenance is strong
            evidence, but it can be forged.
          </li>
          <li>
            <strong>It should inform human judgement, not replace it.</strong> Do not use a verdict alone to accuse
            anyone or to decide anything important; look at the source, the context and other evidence.
          </li>
        </ul>
        <p>Your pictures are sent only to this site&apos;s detector. This page stores nothing: no cookies, no history.</p>
      </section>

      <section aria-labelledby="about-models-heading">
        <h2 id="about-models-heading">The models</h2>
        {models.status === 'loading' && <p>Loading model information…</p>}
        {models.status === 'error' && (
          <div role="alert" className="error">
            <p>{models.error.message}</p>
            <button type="button" className="button" onClick={models.reload}>
              Try again
            </button>
          </div>
        )}
        {models.status === 'ready' && models.data.models.map((m) => <ModelFacts key={m.name} model={m} />)}
      </section>
    </div>
  );
}
