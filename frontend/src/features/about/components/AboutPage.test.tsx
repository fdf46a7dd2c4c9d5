import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { App } from '../../../App';
import { modelsResponse } from '../../../test/fixtures';
import { server } from '../../../test/server';

async function openAbout() {
  const user = userEvent.setup();
  render(<App />);
  await user.click(screen.getByRole('link', { name: 'About' }));
  return user;
}

describe('about view', () => {
  it('is reached from the navigation, which marks the current page and moves focus', async () => {
    await openAbout();
    const heading = await screen.findByRole('heading', { name: 'What this detector can and cannot do' });
    expect(heading).toHaveFocus();
    expect(screen.getByRole('link', { name: 'About' })).toHaveAttribute('aria-current', 'page');
    expect(screen.getByRole('link', { name: 'Detect' })).not.toHaveAttribute('aria-current');
    expect(window.location.hash).toBe('#/about');
  });

  it('states the limits honestly', async () => {
    await openAbout();
    const main = screen.getByRole('main');
    expect(main).toHaveTextContent('Heavy JPEG compression, resizing, screenshots and filters reduce accuracy');
    expect(main).toHaveTextContent('Pictures from generators it never saw, especially new ones, are detected less reliably');
    expect(main).toHaveTextContent('It should inform human judgement, not replace it.');
  });

  it("lists each model's training generators and measured numbers from its metadata", async () => {
    await openAbout();
    const cnn = await screen.findByRole('article', { name: /cnn-crops/ });
    const generators = within(cnn).getAllByRole('listitem').map((li) => li.textContent);
    expect(generators).toEqual(['Stable Diffusion 1.5', 'Midjourney v5', 'DALL-E 3']);
    expect(within(cnn).getByText('Average precision').nextSibling).toHaveTextContent('96.8%');
    expect(within(cnn).getByText('F1 score').nextSibling).toHaveTextContent('92.8%');
    expect(cnn).toHaveTextContent('crops of 224×224 pixels at native resolution, scores combined');
    expect(cnn).toHaveTextContent('Threshold 50%; “Uncertain” between 35% and 65%.');

    const svm = screen.getByRole('article', { name: /svm-legacy/ });
    expect(svm).toHaveTextContent('does not list the generators it was trained on');
    expect(svm).toHaveTextContent('No measured metrics were published with this model.');
    expect(svm).toHaveTextContent('the whole picture resized to 32×32 pixels');
  });

  it('shows ensemble members when a model has them', async () => {
    server.use(
      http.get('/api/v1/models', () =>
        HttpResponse.json({
          ...modelsResponse,
          models: [
            {
              ...modelsResponse.models[0]!,
              name: 'ensemble',
              input: null,
              members: [
                { name: 'cnn-crops', weight: 0.7 },
                { name: 'svm-legacy', weight: 0.3 },
              ],
            },
          ],
        }),
      ),
    );
    await openAbout();
    const article = await screen.findByRole('article', { name: /ensemble/ });
    expect(article).toHaveTextContent('Ensemble of: cnn-crops (weight 0.7), svm-legacy (weight 0.3).');
    expect(article).toHaveTextContent('Input: as each member model takes it.');
  });

  it('explains when the model information cannot be loaded', async () => {
    server.use(http.get('/api/v1/models', () => HttpResponse.error()));
    await openAbout();
    expect(await screen.findByRole('alert')).toHaveTextContent('Cannot reach the detector');
  });

  it('goes back to the detector with the Detect link', async () => {
    const user = await openAbout();
    await user.click(screen.getByRole('link', { name: 'Detect' }));
    expect(await screen.findByRole('heading', { name: 'Check a picture' })).toHaveFocus();
  });
});
