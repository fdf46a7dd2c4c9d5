import { percent } from '../../../lib/format';

interface Props {
  probability: number;
  threshold: number;
  band: [number, number];
}

const pct = (v: number) => `${Math.min(100, Math.max(0, v * 100))}%`;

/** A bar from "real" (0%) to "AI-generated" (100%), with the uncertain band and threshold drawn. */
export function ProbabilityGauge({ probability, threshold, band }: Props) {
  const [lo, hi] = band;
  return (
    <div className="gauge">
      <div
        className="gauge__track"
        role="meter"
        aria-label="AI probability"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(probability * 100)}
        aria-valuetext={`${percent(probability)} probability of being AI-generated`}
      >
        <div className="gauge__band" style={{ left: pct(lo), width: pct(hi - lo) }} />
        <div className="gauge__fill" style={{ width: pct(probability) }} />
        <div className="gauge__threshold" style={{ left: pct(threshold) }} />
        <div className="gauge__marker" style={{ left: pct(probability) }} />
      </div>
      <div className="gauge__scale" aria-hidden="true">
        <span>0% real</span>
        <span>100% AI</span>
      </div>
      <p className="gauge__legend">
        <strong>{percent(probability)}</strong> probability of being AI-generated. Threshold{' '}
        {percent(threshold)}; between {percent(lo)} and {percent(hi)} the answer is &ldquo;Uncertain&rdquo;.
      </p>
    </div>
  );
}
