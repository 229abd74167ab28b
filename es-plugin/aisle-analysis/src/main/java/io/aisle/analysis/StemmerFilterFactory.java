package io.aisle.analysis;

import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishMinimalStemFilter;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.tartarus.snowball.ext.EnglishStemmer;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * "stemmer" with setting language (alias: name, default "porter"), English languages only, matched
 * case-insensitively like analysis-common. "porter_stem" and "kstem" are the same with a fixed language.
 */
public class StemmerFilterFactory extends AbstractTokenFilterFactory {

    private static final Map<String, Function<TokenStream, TokenFilter>> STEMMERS = new TreeMap<>(Map.of(
        "english", PorterStemFilter::new,
        "porter", PorterStemFilter::new,
        "porter2", in -> new SnowballFilter(in, new EnglishStemmer()),
        "light_english", KStemFilter::new,
        "lightenglish", KStemFilter::new,
        "kstem", KStemFilter::new,
        "minimal_english", EnglishMinimalStemFilter::new,
        "minimalenglish", EnglishMinimalStemFilter::new,
        "possessive_english", EnglishPossessiveFilter::new,
        "possessiveenglish", EnglishPossessiveFilter::new
    ));

    private final Function<TokenStream, TokenFilter> stemmer;

    public StemmerFilterFactory(String name, Settings settings) {
        this(name, settings, settings.get("language", settings.get("name", "porter")));
    }

    private StemmerFilterFactory(String name, Settings settings, String language) {
        super(name, settings);
        this.stemmer = STEMMERS.get(language.toLowerCase(Locale.ROOT));
        if (stemmer == null) {
            throw new IllegalArgumentException("stemmer [" + name + "]: language [" + language
                + "] is not supported by the aisle-analysis plugin; supported: " + STEMMERS.keySet());
        }
    }

    static StemmerFilterFactory fixed(String name, Settings settings, String language) {
        return new StemmerFilterFactory(name, settings, language);
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        return stemmer.apply(tokenStream);
    }
}
