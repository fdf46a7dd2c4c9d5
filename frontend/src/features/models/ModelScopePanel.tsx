import type { ModelInfo, RobustnessFigure } from '../../api/types';
import { percent } from '../../lib/format';

const VARIANT_LABEL: Record<string, string> = {
  original: 'as tested',
  downscale50: 'downscaled by half',
  centrecrop: 'centre crop',
  screenshot: 'screenshot-like',
};

/**
 * A robustness variant in words: "jpeg75" -> "JPEG quality 75", "webp80" -> "lossy WebP
 * quality 80", unknown ones as written. The quality fields win over the name.
 */
export function variantLabel(figure: Pick<RobustnessFigure, 'variant' | 'jpeg_quality' | 'webp_quality'>): string {
  if (Object.hasOwn(VARIANT_LABEL, figure.variant)) return VARIANT_LABEL[figure.variant]!;
  const jpeg = figure.jpeg_quality ?? /^jpeg(\d+)$/.exec(figure.variant)?.[1];
  if (jpeg != null) return `JPEG quality ${jpeg}`;
  const webp = figure.webp_quality ?? /^webp(\d+)$/.exec(figure.variant)?.[1];
  if (webp != null) return `lossy WebP quality ${webp}`;
  return figure.variant.replace(/_/g, ' ');
}

const rate = (v: number | null | undefined) => (typeof v === 'number' ? percent(v) : '—');

/** The model's test pictures passed on as people pass pictures on: one row per copy. */
function RobustnessTable({ figures, model }: { figures: RobustnessFigure[]; model: string }) {
  const sets = [...new Set(figures.map((f) => f.test_set).filter(Boolean))];
  return (
    <>
      <h5>When pictures are passed on</h5>
      <div className="table-wrap">
        <table className="robustness">
          <caption className="visually-hidden">How {model} does on copies of its test pictures</caption>
          <thead>
            <tr>
              <th scope="col">Copy</th>
              <th scope="col">AI / real pictures</th>
              <th scope="col">ROC-AUC</th>
              <th scope="col">AI detected</th>
              <th scope="col">Real called AI</th>
            </tr>
          </thead>
          <tbody>
            {figures.map((f, i) => (
              <tr key={`${f.variant}-${i}`}>
                <th scope="row">{variantLabel(f)}</th>
                <td>
                  {f.n_ai} / {f.n_real}
                </td>
                <td>{rate(f.roc_auc)}</td>
                <td>{rate(f.detection_rate)}</td>
                <td>{rate(f.false_positive_rate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {sets.length > 0 && (
        <p className="hint">
          Both kinds of test picture passed on alike, at the model&apos;s threshold. Test set: {sets.join('; ')}.
        </p>
      )}
    </>
  );
}

function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function kinds(model: ModelInfo): string[] {
  const s = model.scope;
  return [...new Set([...(s?.trained_on ?? []), ...(s?.held_out ?? [])].map((f) => f.kind))];
}

/**
 * One sentence, next to the model's figures: what it was tested on and what it may miss.
 * Rendered from the metadata's `scope`; a model without one says so.
 */
export function scopeSummary(model: ModelInfo): string {
  const s = model.scope;
  if (!s || ((s.trained_on ?? []).length === 0 && (s.held_out ?? []).length === 0)) {
    return 'The training data is not described: nobody has said which generators this model has seen, so any generator may be missed.';
  }
  const trained = (s.trained_on ?? []).map((f) => f.family);
  const heldOut = s.held_out ?? [];
  const parts: string[] = [];
  if (model.metrics_n) {
    parts.push(
      `Tested on ${model.metrics_n} images: camera photos and fakes from the generators it was trained on (${list(trained)})`,
    );
  } else if (trained.length) {
    parts.push(`Trained on ${list(trained)}`);
  }
  if (heldOut.length) {
    const n = heldOut.reduce((a, f) => a + f.n, 0);
    const names = list(heldOut.map((f) => f.family));
    if (heldOut.every((f) => trained.includes(f.family))) {
      // Leave-one-family-out: copies retrained without each family, not this model itself.
      parts.push(`in leave-one-out tests (a copy retrained without each family) on ${n} images (${names})`);
    } else {
      const families = heldOut.length === 1 ? 'generator family' : 'generator families';
      parts.push(`on ${n} images with fakes from ${heldOut.length} ${families} it never saw in training (${names})`);
    }
  }
  const seen = kinds(model);
  const tail = seen.length
    ? `All are ${list(seen)} generators: other generators may be missed${seen.includes('text-to-image') ? '' : ', text-to-image ones (Stable Diffusion, DALL-E, Midjourney, FLUX) included'}.`
    : 'Other generators may be missed.';
  return `${parts.join(', and ')}. ${tail}`;
}

/** The full account, for the About page: families, sizes, held-out figures with their test sets. */
export function ModelScopePanel({ model }: { model: ModelInfo }) {
  const s = model.scope;
  if (!s) {
    return (
      <p>
        The training data is not described: this model&apos;s metadata does not say which generators it was trained or
        tested on, so any generator may be missed.
      </p>
    );
  }
  return (
    <div className="scope">
      {(s.trained_on ?? []).length > 0 && (
        <>
          <h5>Trained on</h5>
          <ul>
            {s.trained_on!.map((f) => (
              <li key={f.family}>
                {f.family} ({f.kind}): {f.images} images
              </li>
            ))}
          </ul>
        </>
      )}
      <h5>Tested on generators it never saw in training</h5>
      {(s.held_out ?? []).length > 0 ? (
        <ul>
          {s.held_out!.map((f) => (
            <li key={f.family}>
              {f.family} ({f.kind}), {f.n} images
              {typeof f.roc_auc === 'number' && `: ROC AUC ${percent(f.roc_auc)}`}
              {typeof f.detection_rate === 'number' && `, ${percent(f.detection_rate)} of its fakes caught`}
              <span className="hint"> — {f.test_set}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p>None: there is no figure for generators outside the training data.</p>
      )}
      {(s.robustness ?? []).length > 0 && <RobustnessTable figures={s.robustness!} model={model.name} />}
      {s.note && <p>{s.note}</p>}
    </div>
  );
}
