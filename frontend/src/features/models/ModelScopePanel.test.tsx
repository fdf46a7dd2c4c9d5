import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../api/types';
import { modelsResponse } from '../../test/fixtures';
import { ModelScopePanel, variantLabel } from './ModelScopePanel';

const cnn = modelsResponse.models[0]!;

describe('model scope panel', () => {
  it('shows how the model does when pictures are passed on, one row per copy', () => {
    render(<ModelScopePanel model={cnn} />);
    expect(screen.getByRole('heading', { name: 'When pictures are passed on' })).toBeInTheDocument();
    const table = screen.getByRole('table', { name: 'How cnn-crops does on copies of its test pictures' });
    const header = within(table).getAllByRole('columnheader').map((th) => th.textContent);
    expect(header).toEqual(['Copy', 'AI / real pictures', 'ROC-AUC', 'AI detected', 'Real called AI']);
    const rows = within(table)
      .getAllByRole('row')
      .slice(1)
      .map((tr) => [...tr.children].map((cell) => cell.textContent));
    expect(rows).toEqual([
      ['as tested', '383 / 159', '93%', '63%', '4%'],
      ['JPEG quality 95', '383 / 159', '88%', '41%', '3%'],
      ['JPEG quality 75', '383 / 159', '61%', '5%', '1%'],
      ['lossy WebP quality 80', '383 / 159', '64%', '7%', '1%'],
      ['downscaled by half', '383 / 159', '70%', '12%', '2%'],
      ['centre crop', '383 / 159', '—', '—', '—'],
      ['screenshot-like', '383 / 159', '55%', '2%', '1%'],
    ]);
    expect(within(table).getByRole('rowheader', { name: 'lossy WebP quality 80' }).closest('tr')).toHaveTextContent(
      'lossy WebP quality 80383 / 15964%7%1%',
    );
    expect(screen.getByText(/Test set: corpus-v2 test split\./)).toBeInTheDocument();
    expect(screen.getByText('It has not been tested on any text-to-image generator.')).toBeInTheDocument();
  });

  it('keeps working for a scope without robustness figures', () => {
    const model: ModelInfo = { ...cnn, scope: { ...cnn.scope, robustness: [] } };
    render(<ModelScopePanel model={model} />);
    expect(screen.getByText('esrgan-slim (super-resolution): 500 images')).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    expect(screen.queryByText('When pictures are passed on')).not.toBeInTheDocument();

    // Metadata written before robustness figures existed has no such field at all.
    const older = { trained_on: cnn.scope!.trained_on, held_out: cnn.scope!.held_out };
    render(<ModelScopePanel model={{ ...cnn, name: 'older', scope: older }} />);
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('names variants in words, reading the quality from the name when it is absent', () => {
    expect(variantLabel({ variant: 'jpeg90', jpeg_quality: 90 })).toBe('JPEG quality 90');
    expect(variantLabel({ variant: 'jpeg50' })).toBe('JPEG quality 50');
    expect(variantLabel({ variant: 'webp80', webp_quality: 80 })).toBe('lossy WebP quality 80');
    expect(variantLabel({ variant: 'webp60' })).toBe('lossy WebP quality 60');
    expect(variantLabel({ variant: 'webp_custom', webp_quality: 70 })).toBe('lossy WebP quality 70');
    expect(variantLabel({ variant: 'original' })).toBe('as tested');
    expect(variantLabel({ variant: 'blur_2px' })).toBe('blur 2px');
    expect(variantLabel({ variant: 'constructor' })).toBe('constructor');
  });
});
