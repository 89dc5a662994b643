"""Knowledge: articles (how-to, known error, FAQ) in several languages."""
