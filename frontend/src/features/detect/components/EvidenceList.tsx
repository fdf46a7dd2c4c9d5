import type { Evidence } from '../../../api/types';
import { SIGNAL_LABEL, STRENGTH_LABEL, evidenceKindLabel, evidenceMeaning } from '../verdict';

export function EvidenceList({ evidence }: { evidence: Evidence[] }) {
  return (
    <section className="card" aria-labelledby="evidence-heading">
      <h3 id="evidence-heading">Provenance evidence</h3>
      {evidence.length === 0 ? (
        <p>
          No provenance data was found (no Content Credentials, generator metadata or known watermark). That is
          common: most sites strip metadata, so its absence proves nothing either way.
        </p>
      ) : (
        <ul className="evidence">
          {evidence.map((e, i) => (
            <li key={`${e.kind}-${i}`} className={`evidence__item evidence__item--${e.signal}`}>
              <p className="evidence__head">
                <strong>{evidenceKindLabel(e.kind)}</strong>
                <span className={`tag tag--${e.signal}`}>{SIGNAL_LABEL[e.signal]}</span>
                <span className="tag">{STRENGTH_LABEL[e.strength]} evidence</span>
              </p>
              <p>{e.detail}</p>
              <p className="hint">{evidenceMeaning(e)}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
