import type { ModelScore } from '../../../api/types';
import { percent } from '../../../lib/format';

/** Per-model probabilities, shown when an ensemble or several models ran. */
export function ModelScores({ scores }: { scores: ModelScore[] }) {
  return (
    <section className="card" aria-labelledby="models-heading">
      <h3 id="models-heading">Per-model results</h3>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Version</th>
              <th scope="col">Weight</th>
              <th scope="col">AI probability</th>
            </tr>
          </thead>
          <tbody>
            {scores.map((s) => (
              <tr key={`${s.name}-${s.version}`}>
                <th scope="row">{s.name}</th>
                <td>{s.version}</td>
                <td>{s.weight.toFixed(2)}</td>
                <td>{percent(s.ai_probability)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
