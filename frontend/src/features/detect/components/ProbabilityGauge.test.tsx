import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ProbabilityGauge } from './ProbabilityGauge';

describe('probability gauge', () => {
  it('exposes the value to assistive technology and marks threshold and band', () => {
    const { container } = render(<ProbabilityGauge probability={0.42} threshold={0.6} band={[0.4, 0.7]} />);
    const meter = screen.getByRole('meter', { name: 'AI probability' });
    expect(meter).toHaveAttribute('aria-valuenow', '42');
    expect(container.querySelector<HTMLElement>('.gauge__threshold')!.style.left).toBe('60%');
    const band = container.querySelector<HTMLElement>('.gauge__band')!;
    expect(band.style.left).toBe('40%');
    expect(parseFloat(band.style.width)).toBeCloseTo(30);
    expect(container.querySelector<HTMLElement>('.gauge__marker')!.style.left).toBe('42%');
    expect(screen.getByText(/Threshold 60%; between 40% and 70%/)).toBeInTheDocument();
  });

  it('does not round a near-certain score up to a certain 100%', () => {
    render(<ProbabilityGauge probability={0.996} threshold={0.5} band={[0.35, 0.65]} />);
    expect(screen.getByRole('meter')).toHaveAttribute('aria-valuetext', '99.6% probability of being AI-generated');
  });
});
