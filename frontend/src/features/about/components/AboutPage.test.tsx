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
    const families = within(cnn).getAllByRole('listitem').map((li) => li.textContent);
    expect(families).toEqual([
      'esrgan-slim (super-resolution): 500 images',
      'esrgan-thick (super-resolution): 480 images',
      'esrgan-medium (super-resolution), 143 images: ROC AUC 95%, 69% of its fakes caught — leave-one-family-out: test reals and esrgan-medium test fakes (111 real / 32 AI)',
    ]);
    expect(cnn).toHaveTextContent(
      'Tested on 10 images: camera photos and fakes from the generators it was trained on (esrgan-slim and esrgan-thick), and on 143 images with fakes from 1 generator family it never saw in training (esrgan-medium). All are super-resolution generators: other generators may be missed, text-to-image ones (Stable Diffusion, DALL-E, Midjourney, FLUX) included.',
    );
    expect(cnn).toHaveTextContent('It has not been tested on any text-to-image generator.');
    // Its test pictures passed on (re-saved as JPEG, downscaled, ...): a table of its own.
    const robustness = within(cnn).getByRole('table', { name: 'How cnn-crops does on copies of its test pictures' });
    expect(within(robustness).getByRole('rowheader', { name: 'JPEG quality 75' }).closest('tr')).toHaveTextContent(
      'JPEG quality 75383 / 15961%5%1%',
    );
    // 10 test images: the figures say so, and that the sample is small.
    expect(cnn).toHaveTextContent('Measured on 10 test images from the same sources as the training data: a small sample');
    expect(within(cnn).getByText('Average precision').nextSibling).toHaveTextContent('96.8%');
    expect(within(cnn).getByText('F1 score').nextSibling).toHaveTextContent('92.8%');
    expect(cnn).toHaveTextContent('crops of 224×224 pixels at native resolution, scores combined');
    expect(cnn).toHaveTextContent('Threshold 50%; “Uncertain” between 35% and 65%.');

    const svm = screen.getByRole('article', { name: /svm-legacy/ });
    expect(svm).toHaveTextContent('The training data is not described');
    expect(svm).toHaveTextContent('No measured metrics were published with this model.');
    expect(svm).toHaveTextContent('the whole picture resized to 32×32 pixels');
    expect(within(svm).queryByRole('table')).not.toBeInTheDocument();
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
