package io.aisle.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenFilter;
import org.apache.lucene.analysis.reverse.ReverseStringFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;

/**
 * "edge_ngram": "blend" -> "b", "bl", ... Settings: min_gram (default 1), max_gram (default 2),
 * preserve_original (default false), side ("front" default, or "back").
 */
public class EdgeNGramFilterFactory extends AbstractTokenFilterFactory {

    private final int minGram;
    private final int maxGram;
    private final boolean preserveOriginal;
    private final boolean back;

    public EdgeNGramFilterFactory(String name, Settings settings) {
        super(name, settings);
        this.minGram = settings.getAsInt("min_gram", 1);
        this.maxGram = settings.getAsInt("max_gram", 2);
        this.preserveOriginal = settings.getAsBoolean("preserve_original", false);
        String side = settings.get("side", "front");
        if (side.equals("front") == false && side.equals("back") == false) {
            throw new IllegalArgumentException("edge_ngram [" + name + "]: side must be [front] or [back], got [" + side + "]");
        }
        this.back = side.equals("back");
        if (minGram < 1 || maxGram < minGram) {
            throw new IllegalArgumentException("edge_ngram [" + name + "]: need 1 <= min_gram <= max_gram, got min_gram ["
                + minGram + "], max_gram [" + maxGram + "]");
        }
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        if (back) {  // grams from the end of the token: reverse, take front grams, reverse back
            return new ReverseStringFilter(new EdgeNGramTokenFilter(new ReverseStringFilter(tokenStream), minGram, maxGram, preserveOriginal));
        }
        return new EdgeNGramTokenFilter(tokenStream, minGram, maxGram, preserveOriginal);
    }

    @Override
    public boolean breaksFastVectorHighlighter() {
        return true;
    }

    @Override
    public TokenFilterFactory getSynonymFilter() {
        throw new IllegalArgumentException("Token filter [" + name() + "] cannot be used to parse synonyms");
    }
}
