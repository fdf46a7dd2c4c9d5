import { useEffect, useRef } from 'react';
import { AboutPage } from './features/about/components/AboutPage';
import { useModels } from './features/detect/api/useModels';
import { DetectPage } from './features/detect/components/DetectPage';
import { useHashRoute } from './lib/useHashRoute';

export function App() {
  const route = useHashRoute();
  const models = useModels();
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  // After in-page navigation, put focus at the top of the new view (as a page load would).
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    mainRef.current?.querySelector<HTMLElement>('h2')?.focus();
    document.title = route === 'about' ? 'About - AI image detector' : 'AI image detector';
  }, [route]);

  return (
    <>
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          // The hash drives navigation, so move focus by hand instead of changing it.
          e.preventDefault();
          mainRef.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="site-header">
        <h1 className="site-title">AI image detector</h1>
        <nav aria-label="Main">
          <ul>
            <li>
              <a href="#/" aria-current={route === 'detect' ? 'page' : undefined}>
                Detect
              </a>
            </li>
            <li>
              <a href="#/about" aria-current={route === 'about' ? 'page' : undefined}>
                About
              </a>
            </li>
          </ul>
        </nav>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        {route === 'about' ? <AboutPage models={models} /> : <DetectPage models={models} />}
      </main>
      <footer className="site-footer">
        <p>Open-source detector. Its answers are estimates: treat them as one piece of evidence.</p>
      </footer>
    </>
  );
}
